using TorchSharp.Modules;

namespace SearchToDeploy.Nas.Ops;

/// <summary>
/// A module that holds BatchNorm affine parameters (γ, β) as its own parameters rather than in a BatchNorm2d (the
/// fused cells stack many edges' BNs into one tensor): the optimiser gives them the BN weight decay, as it does a
/// BatchNorm2d's.
/// </summary>
public interface IBatchNormAffine
{
    IEnumerable<Parameter> BatchNormAffine { get; }
}
