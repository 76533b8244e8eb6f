using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Ops;

/// <summary>
/// Drop-path (DARTS utils.drop_path): zero whole samples with probability p, scale the rest by 1/(1-p). In a
/// data-parallel step each image gets the mask one process would draw for it (<see cref="BatchShare"/>).
/// </summary>
public static class DropPath
{
    public static Tensor Apply(Tensor x, double p)
    {
        if (p <= 0) return x.alias();
        double keep = 1 - p;
        using var mask = BatchShare.Draw(x.shape[0], rows => torch.empty([rows, 1, 1, 1], x.dtype, x.device).bernoulli_(keep));
        using var k = keep.ToScalar();
        using var scaled = x / k;
        return scaled * mask;
    }
}
