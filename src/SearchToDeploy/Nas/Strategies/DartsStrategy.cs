using System.Diagnostics;
using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// DARTS's alternating step (quark0/darts train_search.py): the architecture step on an architecture batch (first or
/// second order, <see cref="Architect"/>), then the weight step on a training batch, which sees the α just updated.
/// Also the step of PC-DARTS and the random-feature methods, whose differences live in the supernet.
/// </summary>
public class DartsStrategy(StrategySetup setup) : ISearchStrategy
{
    protected readonly Architect Architect = new(setup.Net, setup.Arch, setup.GradientSync);
    protected readonly WeightStep Weights = new(setup.Net, setup.Sgd, setup.GradClip, setup.GradientSync);

    public virtual void BeginEpoch(int epoch, int epochs) { }

    public virtual int ThreadsFor(bool archTrains, int threads) => threads;

    public virtual StepResult Gradients(Tensor xTrain, Tensor yTrain, Tensor xArch, Tensor yArch, double lr, bool archTrains)
    {
        double archLoss = 0, archMs = 0;
        if (archTrains)
        {
            var watch = Stopwatch.StartNew();
            archLoss = Architect.Step(xTrain, yTrain, xArch, yArch, lr, setup.Sgd, setup.Unrolled);
            archMs = watch.Elapsed.TotalMilliseconds;
        }
        var (logits, loss, ms) = Weights.Gradient(xTrain, yTrain);
        return new StepResult(logits, loss, archLoss, archMs, ms);
    }

    public void UpdateWeights(double lr) => Weights.Update(lr);

    public IReadOnlyDictionary<string, Tensor> State() => Architect.Optimizer.State();

    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => Architect.Optimizer.LoadState(state);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
