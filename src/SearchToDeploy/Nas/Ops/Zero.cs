using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>The "none" op: zeros of the output shape (subsampled by the stride).</summary>
public sealed class Zero(long stride) : Module<Tensor, Tensor>(nameof(Zero))
{
    public long Stride { get; } = stride;

    public override Tensor forward(Tensor x)
    {
        if (Stride == 1) return torch.zeros_like(x);
        using var s = x[.., .., TensorIndex.Slice(null, null, Stride), TensorIndex.Slice(null, null, Stride)];
        return torch.zeros_like(s);
    }
}
