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
}
