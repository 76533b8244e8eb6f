using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

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
