using SearchToDeploy.Core.Distributed;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using TorchSharp;
using TorchSharp.Modules;
using ParamGroup = SearchToDeploy.Core.Optim.ParamGroup;
using static TorchSharp.torch;

namespace SearchToDeploy.Runs.Search;

/// <summary>
/// A search's machinery, built one way for the runner, the benchmark and the tests: the supernet (built and its random
/// features drawn on the CPU, so a seed gives the same supernet on every device, then moved), the weights' SGD with the
/// BN affine parameters in a group of their own (their own weight decay), and the method's strategy.
/// </summary>
public sealed class SearchSession : IDisposable
{
    private SearchSession(Supernet net, Sgd sgd, ISearchStrategy strategy) { Net = net; Sgd = sgd; Strategy = strategy; }

    public Supernet Net { get; }
    public Sgd Sgd { get; }
    public ISearchStrategy Strategy { get; }

    /// <param name="config">The supernet's shape (<see cref="SearchOptions.SupernetConfig"/>, possibly with edge-by-edge cells).</param>
    /// <param name="compute">Where the supernet runs, and the run's torch threads (parallel steps split them between their two sides).</param>
    /// <param name="sync">How gradients are averaged over the processes of a data-parallel run (default: one process).</param>
    public static SearchSession Create(SearchOptions o, SupernetConfig config, Compute compute, IGradientSync? sync = null)
    {
        var net = SupernetFactory.Create(config);
        try
        {
            if (o.Method.RandomFeatures) RandomFeatures.Apply(net, o.FrozenInit, o.TrainClassifier);
            net.DropPathProb = o.DropPath;
            net.to(compute.Device); // before anything holds its parameters: moving replaces the Parameter objects
            var sgd = new Sgd(WeightGroups(net, o), o.Momentum, o.Nesterov);
            var strategy = o.Method.Strategy(new StrategySetup(net, sgd, o.Architecture, o.GradClip, o.Unrolled, o.ParallelSteps, ParallelSteps.ThreadsPerSide(compute.Threads), sync) { WeightsFirst = o.WeightsFirst && !o.ParallelSteps });
            return new SearchSession(net, sgd, strategy);
        }
        catch
        {
            net.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Trainable weights in two groups: BN affine parameters (their own weight decay), of BatchNorm2d modules and of the
    /// fused cells' stacked BNs alike, and the rest.
    /// </summary>
    private static IReadOnlyList<ParamGroup> WeightGroups(Supernet net, SearchOptions o)
    {
        var bn = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var (_, m) in net.named_modules())
        {
            if (m is BatchNorm2d b)
            {
                if (b.weight is { } w) bn.Add(w);
                if (b.bias is { } bb) bn.Add(bb);
            }
            if (m is IBatchNormAffine stacked) bn.UnionWith(stacked.BatchNormAffine);
        }
        var weights = net.WeightParameters;
        var bnParams = weights.Where(bn.Contains).ToList();
        var other = weights.Where(p => !bn.Contains(p)).ToList();
        return [new ParamGroup(other, o.WeightDecay), new ParamGroup(bnParams, o.BnWeightDecay ?? o.WeightDecay)];
    }

    public void Dispose()
    {
        Strategy.Dispose();
        Net.Dispose();
    }
}
