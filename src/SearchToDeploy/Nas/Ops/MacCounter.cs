using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>
/// Counts the multiply-accumulates of a network's <see cref="Conv"/> modules over the forward passes run while it is
/// attached, through forward hooks on those modules: an explicit context, so nothing on the convolution's path reads
/// global or thread state. Convolutions called outside a <see cref="Conv"/> module (the fused supernet cells' stacked
/// filters) are not counted; counts are taken on reference networks, where every convolution is one.
/// </summary>
public sealed class MacCounter : IDisposable
{
    private readonly List<Action> _removers = [];

    public MacCounter(Module network)
    {
        foreach (var m in network.modules())
            if (m is Conv conv)
            {
                var hook = conv.register_forward_hook((_, x, y) => { Add(conv, x, y); return null!; });
                _removers.Add(hook.remove);
            }
    }

    public long MultiplyAdds { get; private set; }

    private void Add(Conv conv, Tensor x, Tensor y) =>
        MultiplyAdds += x.shape[0] * y.shape[1] * y.shape[2] * y.shape[3] * (conv.InChannels / conv.Groups) * conv.Kernel * conv.Kernel;

    public void Dispose()
    {
        foreach (var remove in _removers) remove();
        _removers.Clear();
    }
}
