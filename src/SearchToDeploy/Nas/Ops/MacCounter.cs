using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>Counts multiply-accumulates of the convolutions run while it is installed in <see cref="Conv.Counter"/>.</summary>
public sealed class MacCounter : IDisposable
{
    private readonly MacCounter? _previous;

    public MacCounter()
    {
        _previous = Conv.Counter;
        Conv.Counter = this;
    }

    public long MultiplyAdds { get; private set; }
    public void Add(long macs) => MultiplyAdds += macs;
    public void Dispose() => Conv.Counter = _previous;
}
