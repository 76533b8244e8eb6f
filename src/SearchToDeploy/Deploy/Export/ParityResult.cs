using static TorchSharp.torch;

namespace SearchToDeploy.Deploy.Export;

public sealed record ParityResult(double RandomMaxAbsDiff, double ImagesMaxAbsDiff, int RandomInputs, int Images, bool SameTop1)
{
    public double MaxAbsDiff => Math.Max(RandomMaxAbsDiff, ImagesMaxAbsDiff);

    /// <summary>The largest logit difference relative to the logit where it is above 1 (absolute below): what the tolerance bounds. NaN when any logit was NaN.</summary>
    public double MaxScaledDiff { get; init; }
}
