using SearchToDeploy.Core.Distributed;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Nas.Supernets;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// What a strategy is made from: the supernet (already on its device, its random features drawn), the weights'
/// optimizer, the architecture settings, the weights' gradient-norm clip, and the DARTS step variants a run asked for
/// (second order; parallel first-order steps, each side on <see cref="ThreadsPerSide"/> threads), and how gradients are
/// averaged over the processes of a data-parallel run (<see cref="IGradientSync"/>; nothing in one process).
/// </summary>
public sealed record StrategySetup(Supernet Net, Sgd Sgd, ArchitectureSettings Arch, double GradClip, bool Unrolled = false,
    bool Parallel = false, int ThreadsPerSide = 1, IGradientSync? Sync = null)
{
    /// <summary>The weight step before the architecture step (xautodl's order) instead of after it (DARTS's).</summary>
    public bool WeightsFirst { get; init; }

    public IGradientSync GradientSync => Sync ?? IGradientSync.SingleProcess;
}
