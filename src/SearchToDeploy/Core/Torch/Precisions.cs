using static TorchSharp.torch;

namespace SearchToDeploy.Core.Torch;

public static class Precisions
{
    public static Precision Parse(string s) => s.ToLowerInvariant() switch
    {
        "fp32" or "float32" => Precision.Float32,
        "bf16" or "bfloat16" => Precision.BFloat16,
        _ => throw new InputException($"--precision '{s}': expected fp32 or bf16"),
    };

    public static string Name(this Precision p) => p == Precision.BFloat16 ? "bf16" : "fp32";

    /// <summary>The type activations are cast to, or null for none (float32: the network's own type, float64 in tests).</summary>
    public static ScalarType? Activations(this Precision p) => p == Precision.BFloat16 ? ScalarType.BFloat16 : null;
}
