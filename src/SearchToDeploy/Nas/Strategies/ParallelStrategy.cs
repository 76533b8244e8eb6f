using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// First-order DARTS with the architecture gradient on another core while the weight gradient is computed on this one
/// (<c>--parallel-steps</c>, <see cref="ParallelSteps"/>): both at the same (w, α), then α and w are updated
/// (simultaneous rather than alternating updates).
/// </summary>
public sealed class ParallelStrategy : DartsStrategy
{
    private readonly ParallelSteps _parallel;
    private readonly int _threadsPerSide;

    public ParallelStrategy(StrategySetup setup) : base(setup)
    {
        if (setup.Unrolled) throw new InputException("--parallel-steps computes first-order gradients; drop --unrolled (or --parallel-steps)");
        _parallel = new ParallelSteps(setup.Net, setup.ThreadsPerSide);
        _threadsPerSide = setup.ThreadsPerSide;
    }

    public override int ThreadsFor(bool archTrains, int threads) => archTrains ? _threadsPerSide : threads;

    public override StepResult Gradients(Tensor xTrain, Tensor yTrain, Tensor xArch, Tensor yArch, double lr, bool archTrains)
    {
        if (!archTrains) return base.Gradients(xTrain, yTrain, xArch, yArch, lr, archTrains);
        Weights.ZeroGradients();
        var (archLoss, (logits, loss, weightMs)) = _parallel.Run(xArch, yArch, () => Weights.GradientOnly(xTrain, yTrain));
        Architect.StepAveraged();
        return new StepResult(logits, loss, archLoss, _parallel.LastArchMilliseconds, weightMs);
    }

    public override void Dispose()
    {
        _parallel.Dispose();
        base.Dispose();
    }
}
