using static TorchSharp.torch;

namespace SearchToDeploy.Core.Optim;

/// <summary>Optimizer state by name, for checkpoints.</summary>
public interface IStatefulOptimizer
{
    IReadOnlyDictionary<string, Tensor> State();
    void LoadState(IReadOnlyDictionary<string, Tensor> state);
}
