using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

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
