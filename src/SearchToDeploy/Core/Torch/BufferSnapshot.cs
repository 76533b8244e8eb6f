using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Torch;

/// <summary>
/// A copy of a module's buffers (BatchNorm's running statistics among them), put back when disposed: for passes that
/// must run in training mode (batch statistics) without leaving their batches in the module's statistics.
/// </summary>
public sealed class BufferSnapshot : IDisposable
{
    private readonly List<(Tensor Buffer, Tensor Copy)> _saved;

    public BufferSnapshot(nn.Module module)
    {
        using var _ = torch.no_grad();
        _saved = [.. module.buffers().Select(b => (b, b.detach().clone()))];
    }

    public void Dispose()
    {
        using (torch.no_grad())
            foreach (var (buffer, copy) in _saved)
            {
                buffer.copy_(copy);
                copy.Dispose();
            }
        _saved.Clear();
    }
}
