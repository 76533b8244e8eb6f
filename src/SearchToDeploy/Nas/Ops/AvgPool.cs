using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>
/// 3x3 average pooling with padding 1 that excludes the padding from the average (count_include_pad=False, as DARTS
/// and NAS-Bench-201 use), computed as two small matrix products: the window is separable and so is the count of valid
/// taps, so y = A_H · x · A_Wᵀ with A[i, j] = 1 / (valid taps of output row i) on the taps of window i. Same values as
/// avg_pool2d and faster than libtorch's CPU kernels forward and backward for the map sizes of a CIFAR supernet
/// (docs/torch-notes.md). On other devices (CUDA) it is avg_pool2d itself: the matrix form is a CPU speed-up.
/// </summary>
public static class AvgPool
{
    private static readonly ConcurrentDictionary<(long Size, long Stride, ScalarType Type, string Device, bool Transposed), Tensor> Bands = new();

    public static Tensor Exclusive3x3(Tensor x, long stride)
    {
        if (x.device_type != DeviceType.CPU)
            return functional.avg_pool2d(x, [3, 3], [stride, stride], [1, 1], count_include_pad: false);
        var rows = Band(x.shape[2], stride, x, transposed: false);
        var cols = Band(x.shape[3], stride, x, transposed: true);
        using var h = torch.matmul(rows, x);
        return torch.matmul(h, cols);
    }

    /// <summary>[out, size] averaging matrix (or its transpose), cached per shape; do not dispose.</summary>
    private static Tensor Band(long size, long stride, Tensor like, bool transposed) =>
        Bands.GetOrAdd((size, stride, like.dtype, like.device.ToString(), transposed), key =>
        {
            long outSize = (key.Size - 1) / key.Stride + 1;
            var a = new double[outSize * key.Size];
            for (long i = 0; i < outSize; i++)
            {
                long lo = Math.Max(0, i * key.Stride - 1), hi = Math.Min(key.Size - 1, i * key.Stride + 1);
                for (long j = lo; j <= hi; j++) a[i * key.Size + j] = 1.0 / (hi - lo + 1);
            }
            using var m = torch.tensor(a, [outSize, key.Size]).to(key.Type, like.device);
            return (transposed ? m.t().contiguous() : m.clone()).DetachFromDisposeScope();
        });
}
