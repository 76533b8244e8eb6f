using SearchToDeploy.Nas.Ops;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Spaces;

/// <summary>
/// The kind of cell a space searches, and what the rest of the house asks of it: which op names it knows, how a
/// supernet edge builds a candidate, how its edges are named, what its search log and checks say. Runs, sweeps,
/// benchmarks and the pipeline read these traits instead of testing which kind they hold, so a new kind of space
/// is a new subclass plus its architecture, derivation, supernet and network (docs/architecture.md).
/// </summary>
[System.Text.Json.Serialization.JsonConverter(typeof(SpaceKindJsonConverter))]
public abstract class SpaceKind
{
    /// <summary>DARTS-style cells: two inputs, intermediate nodes, normal and reduction cells.</summary>
    public static readonly SpaceKind DartsCell = new DartsCellKind();

    /// <summary>NAS-Bench-201 cells: four nodes, six edges, one cell type between fixed residual reductions.</summary>
    public static readonly SpaceKind Nb201 = new Nb201CellKind();

    public abstract string Name { get; }

    /// <summary>Whether <paramref name="op"/> is an op name of this kind.</summary>
    public abstract bool IsOp(string op);

    /// <summary>One candidate op of a supernet edge with <paramref name="channels"/> channels in and out.</summary>
    public abstract Module<Tensor, Tensor> CreateCandidate(string op, long channels, long stride, OpConfig cfg);

    /// <summary>The edge's name in plots and logs, e.g. "edge 2&lt;-1" or "edge 3: c_{k-1} -> node 1".</summary>
    public abstract string EdgeTitle(int edge);

    /// <summary>The supernet depth as the search log states it (per stage or in all).</summary>
    public abstract string DescribeLayers(int layers);

    /// <summary>Whether the NAS-Bench-201 table holds this kind's cells (test accuracies looked up per epoch).</summary>
    public abstract bool HasBenchmarkTable { get; }

    /// <summary>Whether its derivation may keep 'none' on an edge, so that leaving it out is an option.</summary>
    public abstract bool DerivationMayKeepNone { get; }

    /// <summary>Whether its cells build networks other than their own (the CIFAR and ImageNet networks).</summary>
    public abstract bool Transfers { get; }

    /// <summary>Throws when a space of this kind cannot be searched with <paramref name="steps"/> nodes per cell and <paramref name="layers"/> cells.</summary>
    public abstract void CheckShape(SearchSpace space, int steps, int layers);

    public override string ToString() => Name;
}
