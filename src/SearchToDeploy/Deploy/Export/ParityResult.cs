using static TorchSharp.torch;

namespace SearchToDeploy.Deploy.Export;

public sealed record ParityResult(double RandomMaxAbsDiff, double ImagesMaxAbsDiff, int RandomInputs, int Images, bool SameTop1)
{
    public double MaxAbsDiff => Math.Max(RandomMaxAbsDiff, ImagesMaxAbsDiff);
}
