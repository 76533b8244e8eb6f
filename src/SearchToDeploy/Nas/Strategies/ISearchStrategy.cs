using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// A search strategy: how one search step trains the architecture parameters (the supernet's α and β, which it reads
/// from the supernet) and the weights, how α becomes the ops' mixing weights (it may set the supernet's
/// <see cref="Supernets.Supernet.ArchMixing"/>), and the state a checkpoint keeps. Random features and partial channels
/// are traits of the supernet, not of the strategy. A step is two calls, so that a caller can look at the losses
/// before the weights change: <see cref="Gradients"/>, then <see cref="UpdateWeights"/> (in xautodl's weights-first
/// order the weight step is taken inside <see cref="Gradients"/>, once its loss is known to be finite).
/// </summary>
public interface ISearchStrategy : IDisposable
{
    /// <summary>Called before each epoch (schedules of the strategy's own, such as GDAS's temperature).</summary>
    void BeginEpoch(int epoch, int epochs);

    /// <summary>Torch threads the step's own thread uses, of <paramref name="threads"/> (parallel steps use half on each side).</summary>
    int ThreadsFor(bool archTrains, int threads);

    /// <summary>
    /// The architecture step (α updated; skipped while <paramref name="archTrains"/> is false) and the weight gradient
    /// (accumulated into the weights' .grad; the weights are not changed yet). <paramref name="lr"/> is the weights' rate.
    /// </summary>
    StepResult Gradients(Tensor xTrain, Tensor yTrain, Tensor xArch, Tensor yArch, double lr, bool archTrains);

    /// <summary>Clips the weight gradients' global norm and takes the weights' step at <paramref name="lr"/>.</summary>
    void UpdateWeights(double lr);

    /// <summary>The architecture optimizer's state, for checkpoints.</summary>
    IReadOnlyDictionary<string, Tensor> State();

    void LoadState(IReadOnlyDictionary<string, Tensor> state);
}
