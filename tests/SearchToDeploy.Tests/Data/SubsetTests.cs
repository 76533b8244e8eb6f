using SearchToDeploy.Data;

namespace SearchToDeploy.Tests.Data;

/// <summary>Quick validation subsets are drawn across classes, never the first images of a sorted folder.</summary>
public sealed class SubsetTests
{
    [Fact]
    public void A_stratified_subset_of_imagenette_keeps_every_class_in_proportion_and_is_seeded()
    {
        var val = DatasetRef.Resolve("imagenette", TestPaths.DataRoot).Open(Split.Test);
        var pick = Subsets.Stratified(val, 256, seed: 0)!;
        Assert.Equal(256, pick.Length);
        Assert.Equal(pick.Order(), pick);
        Assert.Equal(pick.Length, pick.Distinct().Count());
        var counts = val.ClassCounts();
        var picked = new int[counts.Length];
        foreach (int i in pick) picked[val.LabelOf(i)]++;
        for (int c = 0; c < counts.Length; c++)
            Assert.InRange(picked[c], (int)Math.Floor(256.0 * counts[c] / val.Count), (int)Math.Ceiling(256.0 * counts[c] / val.Count));
        Assert.Equal(pick, Subsets.Stratified(val, 256, seed: 0));
        Assert.NotEqual(pick, Subsets.Stratified(val, 256, seed: 1));
        Assert.Null(Subsets.Stratified(val, 0, seed: 0));
        Assert.Null(Subsets.Stratified(val, val.Count, seed: 0));
    }

    [Fact]
    public void A_random_training_subset_is_seeded_sorted_and_within_range()
    {
        var a = Subsets.Random(1000, 100, seed: 5)!;
        Assert.Equal(100, a.Length);
        Assert.Equal(a.Order(), a);
        Assert.All(a, i => Assert.InRange(i, 0, 999));
        Assert.Equal(a, Subsets.Random(1000, 100, seed: 5));
        Assert.NotEqual(Enumerable.Range(0, 100), a);
        Assert.Null(Subsets.Random(1000, 0, seed: 5));
    }
    [Fact]
    public void A_subset_smaller_than_the_classes_is_spread_over_them_not_the_first_ones()
    {
        // 1,000 classes of one image each: every class's share rounds down to 0 and the 100 images go by the tie rule.
        var val = DatasetRef.Resolve("imagenet", TestPaths.DataRoot, Path.Combine(TestPaths.DataRoot, "imagenet-sample")).Open(Split.Test);
        var labels = Subsets.Stratified(val, 100, seed: 0)!.Select(val.LabelOf).ToList();
        Assert.Equal(100, labels.Distinct().Count());
        Assert.InRange(labels.Count(l => l < 100), 0, 40); // ties broken by class index took exactly classes 0-99
        Assert.Contains(labels, l => l >= 900);
    }

    [Fact]
    public void The_search_split_of_a_folder_dataset_draws_both_halves_from_every_class()
    {
        int[] label = [.. Enumerable.Range(0, 1000).Select(i => i / 100)]; // listed class by class, as a folder is
        var (w, a) = SearchSplit.Create(1000, 0.5, shuffleSeed: 0);
        Assert.Equal(Enumerable.Range(0, 1000), w.Concat(a).Order());
        Assert.Equal(10, w.Select(i => label[i]).Distinct().Count());
        Assert.Equal(10, a.Select(i => label[i]).Distinct().Count());
        var (w50, a50) = SearchSplit.Create(1000, 0.5, maxPerPart: 50, shuffleSeed: 0);
        Assert.True(w50.Select(i => label[i]).Distinct().Count() >= 8 && a50.Select(i => label[i]).Distinct().Count() >= 8);
        Assert.Equal(w, SearchSplit.Create(1000, 0.5, shuffleSeed: 0).Weights);
    }
}
