using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Supernets.Darts;

/// <summary>
/// The structure a fused DARTS-style cell is computed by: the cell's states that feed edges (the two inputs and every
/// intermediate node but the last) and, for each, its outgoing edges and which of them carry each op.
/// </summary>
public sealed class DartsCellLayout
{
    public static readonly IReadOnlyList<ConvFamily> ConvFamilies =
    [
        new(OpRegistry.Sep3, true, 3, 1, 1), new(OpRegistry.Sep5, true, 5, 2, 1), new(OpRegistry.Sep7, true, 7, 3, 1),
        new(OpRegistry.Dil3, false, 3, 2, 2), new(OpRegistry.Dil5, false, 5, 4, 2),
    ];

    public static readonly IReadOnlyList<string> PoolOps = [OpRegistry.MaxPool3, OpRegistry.AvgPool3];

    private static readonly HashSet<string> Fusable =
        [OpRegistry.None, OpRegistry.Skip, .. PoolOps, .. ConvFamilies.Select(f => f.Op)];

    /// <summary>Whether every op of the space has a fused form (S4's noise has not: it needs each op's output).</summary>
    public static bool Supports(SearchSpace space) =>
        space.Kind == SpaceKind.DartsCell && space.Normal.Concat(space.Reduce).SelectMany(e => e).All(Fusable.Contains);

    private DartsCellLayout(IReadOnlyList<IReadOnlyList<string>> candidates, int steps, bool reduction)
    {
        Candidates = candidates;
        Steps = steps;
        Sources = [.. Enumerable.Range(0, steps + 1).Select(j => new DartsSource(this, j, reduction && j < 2 ? 2 : 1))];
    }

    public static DartsCellLayout Of(SearchSpace space, bool reduction, int steps) => new(space.EdgesOf(reduction), steps, reduction);

    /// <summary>Each edge's candidate ops, in α column order.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Candidates { get; }
    public int Steps { get; }
    public int OpsPerEdge => Candidates[0].Count;
    /// <summary>States 0..Steps: the cell inputs, then nodes 0..Steps-2 (the last node feeds no edge).</summary>
    public DartsSource[] Sources { get; }

    /// <summary>The edge from state <paramref name="source"/> into node <paramref name="node"/>.</summary>
    public static int Edge(int node, int source) => SearchSpace.DartsEdgeStart(node) + source;
}
