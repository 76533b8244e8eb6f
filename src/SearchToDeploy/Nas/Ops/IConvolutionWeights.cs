using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>A module that owns convolution filters (and biases): what random features freeze.</summary>
public interface IConvolutionWeights
{
    IEnumerable<Parameter> ConvolutionWeights { get; }
    IEnumerable<Parameter> ConvolutionBiases { get; }
}
