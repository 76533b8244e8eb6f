using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Supernets.Darts;

/// <summary>A separable or dilated convolution op as the fused cell stacks it.</summary>
/// <param name="Separable">sep_conv (two ReLU-depthwise-pointwise-BN stages) rather than dil_conv (one).</param>
public sealed record ConvFamily(string Op, bool Separable, long Kernel, long Padding, long Dilation);
