using System.Text.Json.Serialization;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Torch;

/// <summary>
/// The number format of a supernet's activations. Parameters, their gradients, BN running statistics, the
/// optimizers' state, the loss and the logits always stay float32 (or whatever type the network was moved to); with <see cref="BFloat16"/> the input is cast
/// once on entry, every convolution casts its filters to the activations' type, BatchNorm runs mixed (bfloat16
/// input and output, float32 affine parameters and statistics, float32 accumulation), and the pooled features go
/// back to float32 before the classifier. Gradients reach the float32 parameters through the casts.
/// </summary>
public enum Precision
{
    /// <summary>float32 everywhere (the published setting).</summary>
    [JsonStringEnumMemberName("fp32")] Float32,
    /// <summary>bfloat16 activations (8-bit mantissa, float32's range): half the memory traffic; on CPUs with
    /// AVX-512 BF16 the convolutions run natively in it.</summary>
    [JsonStringEnumMemberName("bf16")] BFloat16,
}

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
