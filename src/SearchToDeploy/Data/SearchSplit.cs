using SearchToDeploy.Core;

namespace SearchToDeploy.Data;

/// <summary>
/// The DARTS search split of a training set: the first <c>floor(portion * n)</c> indices train the weights, the rest
/// train the architecture (quark0/darts train_search.py). Optionally capped to a number of images per part.
/// </summary>
public static class SearchSplit
{
    /// <param name="shuffleSeed">
    /// For a dataset listed class by class (an image folder): the indices are drawn in a seeded order before the split,
    /// so that both parts, and the first images of each, hold every class. Null keeps the dataset's order, as DARTS does
    /// on CIFAR, whose files are already shuffled.
    /// </param>
    public static (int[] Weights, int[] Architecture) Create(int count, double trainPortion = 0.5, int maxPerPart = 0, long? shuffleSeed = null)
    {
        if (trainPortion <= 0 || trainPortion >= 1)
            throw new InputException($"--train-portion {trainPortion}: expected a fraction strictly between 0 and 1");
        int split = (int)Math.Floor(trainPortion * count);
        var order = Enumerable.Range(0, count).ToArray();
        if (shuffleSeed is { } seed)
        {
            var rng = Rng.For(seed, 0x5EA5C4);
            rng.Shuffle(order.AsSpan());
        }
        IEnumerable<int> weights = order[..split], arch = order[split..];
        if (maxPerPart > 0) { weights = weights.Take(maxPerPart); arch = arch.Take(maxPerPart); }
        return ([.. weights], [.. arch]);
    }
}
