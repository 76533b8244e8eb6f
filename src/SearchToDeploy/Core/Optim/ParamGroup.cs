using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Optim;

/// <summary>
/// A parameter group: parameters that share a weight decay. Optimizer state is kept per parameter in named tensors
/// so checkpoints can save and restore it exactly.
/// </summary>
public sealed record ParamGroup(IReadOnlyList<Parameter> Parameters, double WeightDecay);

internal static class OptimizerState
{
    /// <summary>A saved state tensor as a new tensor with the parameter's dtype and device (checkpoints load onto the CPU).</summary>
    public static Tensor Like(Tensor saved, Parameter p) => saved.to(p.dtype, p.device).clone().DetachFromDisposeScope();
}
