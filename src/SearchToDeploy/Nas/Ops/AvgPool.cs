using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>
/// 3x3 average pooling with padding 1 that excludes the padding from the average (count_include_pad=False, as DARTS
/// and NAS-Bench-201 use), computed as the padding-including average times 9 / (number of valid taps): the same
/// values, and on libtorch's CPU kernels its backward pass is about twice as fast as the excluding kernel's.
/// </summary>
public static class AvgPool
{
    private static readonly ConcurrentDictionary<(long H, long W, long Stride, ScalarType Type, string Device), Tensor> Corrections = new();

    public static Tensor Exclusive3x3(Tensor x, long stride)
    {
        using var pooled = Inclusive3x3(x, stride);
        return pooled * Correction(x, stride);
    }

    /// <summary>The padding-including average (sum / 9).</summary>
    public static Tensor Inclusive3x3(Tensor x, long stride) =>
        functional.avg_pool2d(x, 3, stride, 1, ceil_mode: false, count_include_pad: true);

    /// <summary>9 / (valid taps) per output position, [1, 1, H', W'] (cached; do not dispose).</summary>
    public static Tensor Correction(Tensor x, long stride) =>
        Corrections.GetOrAdd((x.shape[2], x.shape[3], stride, x.dtype, x.device.ToString()), key =>
        {
            using var _ = torch.no_grad();
            using var ones = torch.ones([1, 1, key.H, key.W], key.Type, x.device);
            using var fraction = Inclusive3x3(ones, key.Stride);
            return fraction.reciprocal().DetachFromDisposeScope();
        });
}
