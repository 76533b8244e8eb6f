using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

// The convolutional ops of DARTS (quark0/darts operations.py) and NAS-Bench-201 (xautodl cell_operations.py).

/// <summary>ReLU -> conv k x k -> BN. <paramref name="bias"/>: NAS-Bench-201 gives its convs a bias when BN is not affine.</summary>
public sealed class ReLUConvBN : Module<Tensor, Tensor>
{
    private readonly Conv conv;
    private readonly BatchNorm2d bn;

    public ReLUConvBN(long cin, long cout, long kernel, long stride, long padding, OpConfig cfg, bool bias = false, long dilation = 1)
        : base(nameof(ReLUConvBN))
    {
        conv = new Conv(cin, cout, kernel, stride, padding, dilation, bias: bias);
        bn = BatchNorm2d(cout, momentum: cfg.BnMomentum, affine: cfg.Affine, track_running_stats: cfg.TrackRunningStats);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var r = functional.relu(x);
        using var c = conv.call(r);
        return bn.call(c);
    }
}
