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

/// <summary>skip_connect at stride 1.</summary>
public sealed class Identity() : Module<Tensor, Tensor>(nameof(Identity))
{
    public override Tensor forward(Tensor x) => x.alias();
}

/// <summary>3x3 max or average pooling, padding 1; average pooling excludes the padding (count_include_pad=False).</summary>
public sealed class Pool(bool max, long stride) : Module<Tensor, Tensor>(max ? "MaxPool" : "AvgPool")
{
    public bool IsMax { get; } = max;
    public long Stride { get; } = stride;

    public override Tensor forward(Tensor x) => IsMax
        ? functional.max_pool2d(x, 3, Stride, 1)
        : AvgPool.Exclusive3x3(x, Stride);
}

/// <summary>
/// RobustDARTS S4's noise op: ignores its input's values and returns N(0, 1) noise of the output's shape
/// (subsampled by the stride). Drawn from torch's global generator, which the search seeds every epoch.
/// </summary>
public sealed class NoiseOp(long stride) : Module<Tensor, Tensor>(nameof(NoiseOp))
{
    public long Stride { get; } = stride;

    public override Tensor forward(Tensor x)
    {
        long h = (x.shape[2] + Stride - 1) / Stride, w = (x.shape[3] + Stride - 1) / Stride;
        return torch.randn([x.shape[0], x.shape[1], h, w], dtype: x.dtype, device: x.device);
    }
}

/// <summary>A module followed by a BN (DARTS puts an affine-free BN after each pooling op in the search MixedOp).</summary>
public sealed class WithBatchNorm : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> op;
    private readonly TorchSharp.Modules.BatchNorm2d bn;

    public WithBatchNorm(Module<Tensor, Tensor> inner, long channels, OpConfig cfg) : base(nameof(WithBatchNorm))
    {
        op = inner;
        bn = BatchNorm2d(channels, momentum: cfg.BnMomentum, affine: cfg.Affine, track_running_stats: cfg.TrackRunningStats);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var y = op.call(x);
        return bn.call(y);
    }
}
