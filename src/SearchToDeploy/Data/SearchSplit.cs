namespace SearchToDeploy.Data;

/// <summary>
/// The DARTS search split of a training set: the first <c>floor(portion * n)</c> indices train the weights, the rest
/// train the architecture (quark0/darts train_search.py). Optionally capped to a number of images per part.
/// </summary>
public static class SearchSplit
{
    public static (int[] Weights, int[] Architecture) Create(int count, double trainPortion = 0.5, int maxPerPart = 0)
    {
        if (trainPortion <= 0 || trainPortion >= 1)
            throw new InputException($"--train-portion {trainPortion}: expected a fraction strictly between 0 and 1");
        int split = (int)Math.Floor(trainPortion * count);
        var weights = Enumerable.Range(0, split);
        var arch = Enumerable.Range(split, count - split);
        if (maxPerPart > 0) { weights = weights.Take(maxPerPart); arch = arch.Take(maxPerPart); }
        return ([.. weights], [.. arch]);
    }
}
