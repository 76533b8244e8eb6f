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
