using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

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
