using System.Diagnostics;
using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// DARTS's alternating step (quark0/darts train_search.py): the architecture step on an architecture batch (first or
/// second order, <see cref="Architect"/>), then the weight step on a training batch, which sees the α just updated.
/// With <see cref="StrategySetup.WeightsFirst"/>, xautodl's order (NAS-Bench-201 DARTS-V1, GDAS): the weight step,
/// then the architecture step at the weights just updated; the weights then change within <see cref="Gradients"/>
/// (unless the training loss is not finite, so that the caller still sees a divergence before any step).
/// Also the step of PC-DARTS and the random-feature methods, whose differences live in the supernet.
/// </summary>
public class DartsStrategy(StrategySetup setup) : ISearchStrategy
{
    protected readonly Architect Architect = new(setup.Net, setup.Arch, setup.GradientSync);
    protected readonly WeightStep Weights = new(setup.Net, setup.Sgd, setup.GradClip, setup.GradientSync);
    private bool _weightsUpdated;

    public virtual void BeginEpoch(int epoch, int epochs) { }

    public virtual int ThreadsFor(bool archTrains, int threads) => threads;

    public virtual StepResult Gradients(Tensor xTrain, Tensor yTrain, Tensor xArch, Tensor yArch, double lr, bool archTrains)
    {
        if (setup.WeightsFirst)
        {
            var (trainLogits, trainLoss, weightMs) = Weights.Gradient(xTrain, yTrain);
            if (!double.IsFinite(trainLoss)) return new StepResult(trainLogits, trainLoss, 0, 0, weightMs);
            Weights.Update(lr);
            _weightsUpdated = true;
            var (alphaLoss, alphaMs) = ArchStep(xTrain, yTrain, xArch, yArch, lr, archTrains);
            return new StepResult(trainLogits, trainLoss, alphaLoss, alphaMs, weightMs);
        }
        var (archLoss, archMs) = ArchStep(xTrain, yTrain, xArch, yArch, lr, archTrains);
        var (logits, loss, ms) = Weights.Gradient(xTrain, yTrain);
        return new StepResult(logits, loss, archLoss, archMs, ms);
    }

    private (double Loss, double Milliseconds) ArchStep(Tensor xTrain, Tensor yTrain, Tensor xArch, Tensor yArch, double lr, bool archTrains)
    {
        if (!archTrains) return (0, 0);
        var watch = Stopwatch.StartNew();
        double loss = Architect.Step(xTrain, yTrain, xArch, yArch, lr, setup.Sgd, setup.Unrolled);
        return (loss, watch.Elapsed.TotalMilliseconds);
    }

    public void UpdateWeights(double lr)
    {
        if (_weightsUpdated) { _weightsUpdated = false; return; } // taken in Gradients (weights first)
        Weights.Update(lr);
    }

    public IReadOnlyDictionary<string, Tensor> State() => Architect.Optimizer.State();

    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => Architect.Optimizer.LoadState(state);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
