using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Torch;

/// <summary>
/// Tensor sums without TorchSharp's hidden temporaries. TorchSharp 0.107 turns numbers into <see cref="Scalar"/>s
/// implicitly, also inside its own API: <c>a + b</c> and <c>a.add_(b)</c> pass an implicit alpha of 1, <c>t * 0.5</c>
/// converts the 0.5. Such a temporary has a finalizer and no owner, so a garbage collection during the native call
/// can free it while libtorch still reads it (a search died of it; docs/torch-notes.md). Code here makes its scalars
/// explicitly and adds through these helpers, whose alpha lives for the process.
/// </summary>
public static class TensorSums
{
    public static readonly Scalar One = 1.ToScalar();

    /// <summary>a + b (a new tensor).</summary>
    public static Tensor Add(Tensor a, Tensor b) => a.add(b, One);

    /// <summary>a += b, in place; returns a.</summary>
    public static Tensor AddInPlace(Tensor a, Tensor b) => a.add_(b, One);
}
