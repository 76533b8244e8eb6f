using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>NAS-Bench-201's residual reduction block: ReLUConvBN 3x3 stride 2 -> ReLUConvBN 3x3, plus avgpool 2x2 + conv 1x1 shortcut.</summary>
public sealed class ResNetBasicBlock : Module<Tensor, Tensor>
{
    private readonly ReLUConvBN conv_a;
    private readonly ReLUConvBN conv_b;
    private readonly Sequential downsample;

    public ResNetBasicBlock(long cin, long cout, OpConfig cfg) : base(nameof(ResNetBasicBlock))
    {
        conv_a = new ReLUConvBN(cin, cout, 3, 2, 1, cfg, bias: !cfg.Affine);
        conv_b = new ReLUConvBN(cout, cout, 3, 1, 1, cfg, bias: !cfg.Affine);
        downsample = Sequential(AvgPool2d(2, 2), new Conv(cin, cout, 1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var a = conv_a.call(x);
        using var b = conv_b.call(a);
        using var r = downsample.call(x);
        return SearchToDeploy.Core.Torch.TensorSums.Add(r, b);
    }
}
