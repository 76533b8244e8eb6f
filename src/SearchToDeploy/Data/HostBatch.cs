using System.Buffers;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Data;

/// <summary>
/// A batch built on the host by a loader worker: CHW float images and int64 labels. The image buffer is pooled:
/// dispose the batch once its tensors are made to hand the buffer back (an undisposed batch is simply collected).
/// </summary>
public sealed class HostBatch : IDisposable
{
    private float[]? _images;

    internal HostBatch(float[] pooledImages, long[] labels, int channels, int height, int width)
    {
        _images = pooledImages; Labels = labels; Channels = channels; Height = height; Width = width;
    }

    public long[] Labels { get; }
    /// <summary>In a data-parallel run: where this rank's share starts in the whole batch, and the whole batch's size
    /// (0 and <see cref="Count"/> in one process).</summary>
    public int Offset { get; init; }
    public int Whole { get; init; }
    public int Count => Labels.Length;
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int ImageSize => Channels * Height * Width;

    /// <summary>The images, NCHW, Count * C * H * W floats.</summary>
    public ReadOnlySpan<float> Images =>
        (_images ?? throw new ObjectDisposedException(nameof(HostBatch))).AsSpan(0, Count * ImageSize);

    /// <summary>NCHW float32 images and int64 labels as tensors (copies) on <paramref name="device"/>.</summary>
    public (Tensor Images, Tensor Labels) ToTensors(Device? device = null)
    {
        var x = torch.empty([Count, Channels, Height, Width], ScalarType.Float32);
        x.data<float>().CopyFrom(Images, 0, 0);
        var y = torch.tensor(Labels, [Count], dtype: ScalarType.Int64);
        if (device is null || device.type == DeviceType.CPU) return (x, y);
        using (x)
        using (y)
            return (x.to(device), y.to(device));
    }

    public void Dispose()
    {
        var a = Interlocked.Exchange(ref _images, null);
        if (a is not null) ArrayPool<float>.Shared.Return(a);
    }
}
