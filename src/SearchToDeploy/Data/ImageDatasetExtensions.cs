namespace SearchToDeploy.Data;

public static class ImageDatasetExtensions
{
    /// <summary>How many items each class has.</summary>
    public static int[] ClassCounts(this IImageDataset dataset)
    {
        var counts = new int[dataset.Classes.Count];
        for (int i = 0; i < dataset.Count; i++) counts[dataset.LabelOf(i)]++;
        return counts;
    }
}
