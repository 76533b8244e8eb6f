using SearchToDeploy.Nas.Supernets.Darts;
using SearchToDeploy.Nas.Supernets.Nb201;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>The building blocks the fused cells (<see cref="FusedNb201Cell"/>, <see cref="FusedDartsCell"/>) sum their nodes with.</summary>
internal static class FusedArithmetic
{
    /// <summary>sum + x·w (x·w when there is no sum yet); frees the old sum.</summary>
    public static Tensor MultiplyAdd(Tensor? sum, Tensor x, Tensor w)
    {
        if (sum is null) return x * w;
        var r = torch.addcmul(sum, x, w, SearchToDeploy.Core.Torch.TensorSums.One);
        sum.Dispose();
        return r;
    }

    /// <summary>sum + x (an alias of x when there is no sum yet); frees the old sum.</summary>
    public static Tensor Sum(Tensor? sum, Tensor x)
    {
        if (sum is null) return x.alias();
        var r = SearchToDeploy.Core.Torch.TensorSums.Add(sum, x);
        sum.Dispose();
        return r;
    }

    /// <summary>
    /// A BN whose affine transform also applies each channel's op weight: scale·(γx̂ + b) = (scale·γ)x̂ + scale·b
    /// (γ and b absent: an affine-free BN, then the weight).
    /// </summary>
    public static Tensor FoldedBatchNorm(Tensor x, Tensor? gamma, Tensor? beta, Tensor? runningMean, Tensor? runningVar,
        Tensor scale, bool batchStatistics, double momentum)
    {
        using var w = gamma is null ? scale.alias() : gamma * scale;
        using var b = beta is null ? null : beta * scale;
        return functional.batch_norm(x, runningMean, runningVar, w, b, batchStatistics, momentum, 1e-5);
    }
}
