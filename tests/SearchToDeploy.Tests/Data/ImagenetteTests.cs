using SearchToDeploy.Data;

namespace SearchToDeploy.Tests.Data;

/// <summary>Imagenette: the shared 64-px copy has the official split; a folder that does not is named with what differs.</summary>
public sealed class ImagenetteTests
{
    [Fact]
    public void The_shared_copy_matches_the_published_split_and_names_its_classes()
    {
        var d = DatasetRef.Resolve("imagenette", TestPaths.DataRoot);
        Assert.Equal(DatasetKind.Imagenette, d.Kind);
        Assert.Empty(Imagenette.CompareWithOfficial(d.Location));
        var train = d.Open(Split.Train);
        var val = d.Open(Split.Test);
        Assert.Equal((Imagenette.TrainImages, Imagenette.ValImages), (train.Count, val.Count));
        Assert.Equal((9_469, 3_925), (train.Count, val.Count));
        Assert.StartsWith("tench", train.Classes[0]);
        Assert.Equal("golf ball", train.Classes[8]);
        Assert.Equal(val.Classes, train.Classes);
    }

    [Fact]
    public void A_folder_with_other_counts_or_classes_is_reported()
    {
        using var dir = new TempDir();
        foreach (var (wnid, _, train, _) in Imagenette.Classes.Take(9))
            RealFormats.WriteImageFolder(dir["train"], [wnid], wnid == "n01440764" ? 2 : 1, size: 16);
        var problems = Imagenette.CompareWithOfficial(dir.Path);
        Assert.Contains(problems, p => p.Contains("class folders") && p.Contains("expected the 10 Imagenette classes"));
        Assert.Contains(problems, p => p.Contains("val: folder not found"));

        RealFormats.WriteImageFolder(dir["train"], ["n03888257"], 1, size: 16);
        problems = Imagenette.CompareWithOfficial(dir.Path);
        Assert.Contains(problems, p => p.EndsWith("n01440764: 2 images; the official train split has 963 (tench)"));

        var missing = Assert.Throws<DatasetNotFoundException>(() => DatasetRef.Resolve("imagenette", dir["nowhere"]).Open(Split.Train));
        Assert.Contains("s2d data download --dataset imagenette", missing.Message);
    }
}
