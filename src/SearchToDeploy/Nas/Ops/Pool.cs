using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>3x3 max or average pooling, padding 1; average pooling excludes the padding (count_include_pad=False).</summary>
public sealed class Pool(bool max, long stride) : Module<Tensor, Tensor>(max ? "MaxPool" : "AvgPool")
{
    public bool IsMax { get; } = max;
    public long Stride { get; } = stride;

    public override Tensor forward(Tensor x) => IsMax
        ? functional.max_pool2d(x, 3, Stride, 1)
        : AvgPool.Exclusive3x3(x, Stride);
}
