using SearchToDeploy.Core.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Deploy.Onnx;

/// <summary>
/// Folds an eval-mode BatchNorm2d into the convolution before it. With s = γ / sqrt(running_var + eps):
/// w' = w · s (per output channel) and b' = (b - running_mean) · s + β; a BN without affine parameters has γ = 1,
/// β = 0. Computed in float64, returned as float32. A slice of the BN's channels can be folded into a convolution
/// that produces only those channels (FactorizedReduce's two halves).
/// </summary>
public static class BatchNormFolding
{
    /// <summary>
    /// The per-channel scale s and shift t of the BN in eval mode (y = x · s + t), float64 on the CPU. They join the
    /// caller's dispose scope if there is one; otherwise the caller disposes them.
    /// </summary>
    public static (Tensor Scale, Tensor Shift) ScaleAndShift(BatchNorm2d bn)
    {
        var (mean, variance) = RunningStats(bn);
        using var scope = torch.NewDisposeScope();
        var m = mean.detach().to(ScalarType.Float64, torch.CPU);
        var v = variance.detach().to(ScalarType.Float64, torch.CPU);
        var gamma = bn.weight is { } w ? w.detach().to(ScalarType.Float64, torch.CPU) : torch.ones_like(m);
        var beta = bn.bias is { } b ? b.detach().to(ScalarType.Float64, torch.CPU) : torch.zeros_like(m);
        using var eps = bn.eps.ToScalar();
        var scale = gamma / torch.sqrt(v.add(eps, TensorSums.One));
        var shift = beta - m * scale;
        return (scale.MoveToOuterDisposeScope(), shift.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The folded weight and bias of conv(weight, bias) followed by channels [<paramref name="channelOffset"/>,
    /// offset + out) of <paramref name="bn"/>. The caller disposes the returned tensors.
    /// </summary>
    public static (Tensor Weight, Tensor Bias) Fold(Tensor weight, Tensor? bias, BatchNorm2d bn, long channelOffset = 0)
    {
        long cout = weight.shape[0];
        if (channelOffset < 0 || channelOffset + cout > bn.num_features)
            throw new ArgumentException($"cannot fold BN channels [{channelOffset}, {channelOffset + cout}) of a {bn.num_features}-channel BN");
        using var scope = torch.NewDisposeScope();
        var (scaleAll, shiftAll) = ScaleAndShift(bn);
        var scale = scaleAll.narrow(0, channelOffset, cout);
        var shift = shiftAll.narrow(0, channelOffset, cout);
        var w = weight.detach().to(ScalarType.Float64, torch.CPU) * scale.view(-1, 1, 1, 1);
        var b = bias is null ? shift : TensorSums.Add(bias.detach().to(ScalarType.Float64, torch.CPU) * scale, shift);
        return (w.to(ScalarType.Float32).MoveToOuterDisposeScope(), b.to(ScalarType.Float32).MoveToOuterDisposeScope());
    }

    /// <summary>The BN's running mean and variance; throws where it does not track them (it then normalises by batch statistics).</summary>
    public static (Tensor Mean, Tensor Variance) RunningStats(BatchNorm2d bn) =>
        bn.running_mean is { } mean && bn.running_var is { } variance
            ? (mean, variance)
            : throw new NotSupportedException(
                "BatchNorm2d without running statistics (track_running_stats=false) normalises by batch statistics and cannot be exported for inference");
}
