using SearchToDeploy.Core;

namespace SearchToDeploy.Data;

/// <summary>
/// Seeded subsets of a dataset. Folders list their images class by class, so "the first N" of a sorted folder is one
/// class: quick validation subsets are stratified instead (each class in proportion to its share), training subsets
/// a seeded random draw.
/// </summary>
public static class Subsets
{
    /// <summary>
    /// <paramref name="max"/> indices, each class contributing in proportion to its size (largest remainders round
    /// the shares), the images of a class drawn with the seed; sorted. Null (all images) when max is 0 or covers the set.
    /// </summary>
    public static int[]? Stratified(IImageDataset dataset, int max, long seed)
    {
        int n = dataset.Count;
        if (max <= 0 || max >= n) return null;
        var byClass = new List<int>[dataset.Classes.Count];
        for (int c = 0; c < byClass.Length; c++) byClass[c] = [];
        for (int i = 0; i < n; i++) byClass[dataset.LabelOf(i)].Add(i);
        var quota = new int[byClass.Length];
        var remainder = new double[byClass.Length];
        for (int c = 0; c < byClass.Length; c++)
        {
            double share = (double)max * byClass[c].Count / n;
            quota[c] = (int)share;
            remainder[c] = share - quota[c];
        }
        int left = max - quota.Sum();
        // Equal remainders (every class, when max is under the number of classes) go to classes in a seeded order, not
        // to the first classes: a small subset of ImageNet's validation set must not be its fish and birds.
        var tieOrder = Enumerable.Range(0, byClass.Length).ToArray();
        var tieRng = Rng.For(seed, 0x71E5);
        tieRng.Shuffle(tieOrder.AsSpan());
        var rank = new int[byClass.Length];
        for (int i = 0; i < tieOrder.Length; i++) rank[tieOrder[i]] = i;
        foreach (int c in Enumerable.Range(0, byClass.Length).OrderByDescending(c => remainder[c]).ThenBy(c => rank[c]).Take(left)) quota[c]++;
        var pick = new List<int>(max);
        for (int c = 0; c < byClass.Length; c++)
        {
            var members = byClass[c].ToArray();
            var rng = Rng.For(seed, 0x57A7, c);
            rng.Shuffle(members.AsSpan());
            pick.AddRange(members.Take(quota[c]));
        }
        pick.Sort();
        return [.. pick];
    }

    /// <summary>A seeded random draw of <paramref name="max"/> of <paramref name="count"/> indices (sorted), or null for all.</summary>
    public static int[]? Random(int count, int max, long seed)
    {
        if (max <= 0 || max >= count) return null;
        var all = Enumerable.Range(0, count).ToArray();
        var rng = Rng.For(seed, 0x50B5E7);
        rng.Shuffle(all.AsSpan());
        var pick = all.AsSpan(0, max).ToArray();
        Array.Sort(pick);
        return pick;
    }
}
