using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

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
