using TorchSharp;
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

/// <summary>DARTS dil_conv: ReLU -> depthwise k x k (dilation d) -> pointwise 1 x 1 -> BN.</summary>
public sealed class DilConv : Module<Tensor, Tensor>
{
    private readonly Conv depthwise;
    private readonly Conv pointwise;
    private readonly BatchNorm2d bn;

    public DilConv(long cin, long cout, long kernel, long stride, long padding, long dilation, OpConfig cfg) : base(nameof(DilConv))
    {
        depthwise = new Conv(cin, cin, kernel, stride, padding, dilation, groups: cin);
        pointwise = new Conv(cin, cout, 1);
        bn = BatchNorm2d(cout, momentum: cfg.BnMomentum, affine: cfg.Affine, track_running_stats: cfg.TrackRunningStats);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var r = functional.relu(x);
        using var d = depthwise.call(r);
        using var p = pointwise.call(d);
        return bn.call(p);
    }
}

/// <summary>DARTS sep_conv: two DilConv-like stages with dilation 1; only the first has the stride.</summary>
public sealed class SepConv : Module<Tensor, Tensor>
{
    private readonly DilConv first;
    private readonly DilConv second;

    public SepConv(long cin, long cout, long kernel, long stride, long padding, OpConfig cfg) : base(nameof(SepConv))
    {
        first = new DilConv(cin, cin, kernel, stride, padding, 1, cfg);
        second = new DilConv(cin, cout, kernel, 1, padding, 1, cfg);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var a = first.call(x);
        return second.call(a);
    }
}

/// <summary>
/// DARTS FactorizedReduce: ReLU -> concat(conv 1x1 stride 2 on x, conv 1x1 stride 2 on x[:, :, 1:, 1:]) -> BN.
/// Halves the resolution; needs an even number of output channels.
/// </summary>
public sealed class FactorizedReduce : Module<Tensor, Tensor>
{
    private readonly Conv conv_1;
    private readonly Conv conv_2;
    private readonly BatchNorm2d bn;

    public FactorizedReduce(long cin, long cout, OpConfig cfg) : base(nameof(FactorizedReduce))
    {
        if (cout % 2 != 0) throw new ArgumentException($"FactorizedReduce needs an even channel count, got {cout}");
        conv_1 = new Conv(cin, cout / 2, 1, stride: 2);
        conv_2 = new Conv(cin, cout / 2, 1, stride: 2);
        bn = BatchNorm2d(cout, momentum: cfg.BnMomentum, affine: cfg.Affine, track_running_stats: cfg.TrackRunningStats);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var r = functional.relu(x);
        using var a = conv_1.call(r);
        using var shifted = r[.., .., 1.., 1..];
        using var b = conv_2.call(shifted);
        using var cat = torch.cat([a, b], 1);
        return bn.call(cat);
    }
}
