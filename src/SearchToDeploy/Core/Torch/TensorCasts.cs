using static TorchSharp.torch;

namespace SearchToDeploy.Core.Torch;

public static class TensorCasts
{
    /// <summary><paramref name="x"/> in <paramref name="type"/>: a differentiable cast, or an alias when it already is.</summary>
    public static Tensor As(this Tensor x, ScalarType type) => x.dtype == type ? x.alias() : x.to(type);

    /// <summary><paramref name="x"/> in <paramref name="type"/>, or an alias when the type is null (no cast).</summary>
    public static Tensor As(this Tensor x, ScalarType? type) => type is { } t ? x.As(t) : x.alias();
}
