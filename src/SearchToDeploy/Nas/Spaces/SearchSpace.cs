using SearchToDeploy.Nas.Ops;

namespace SearchToDeploy.Nas.Spaces;

/// <summary>
/// A search space as data: the candidate ops of every edge of the normal and the reduction cell, in α column order.
/// DARTS-style cells have 14 edges (node i takes edges from the two cell inputs and nodes 0..i-1); a NAS-Bench-201
/// cell has 6 (edge keys 1&lt;-0, 2&lt;-0, 2&lt;-1, 3&lt;-0, 3&lt;-1, 3&lt;-2) and no reduction cell.
/// </summary>
public sealed record SearchSpace(string Name, SpaceKind Kind, IReadOnlyList<IReadOnlyList<string>> Normal,
    IReadOnlyList<IReadOnlyList<string>> Reduce, string Description)
{
    /// <summary>Candidates per edge (every edge of a space has the same count, so α is one matrix per cell type).</summary>
    public int OpsPerEdge => Normal[0].Count;
    public int Edges => Normal.Count;

    public IReadOnlyList<IReadOnlyList<string>> EdgesOf(bool reduction) => reduction ? Reduce : Normal;

    /// <summary>Number of edges of a DARTS-style cell with <paramref name="steps"/> intermediate nodes: 2+3+...</summary>
    public static int DartsEdgeCount(int steps) => Enumerable.Range(0, steps).Sum(i => i + 2);

    /// <summary>The first edge index of intermediate node <paramref name="node"/> in a DARTS-style cell.</summary>
    public static int DartsEdgeStart(int node) => Enumerable.Range(0, node).Sum(i => i + 2);

    internal void Validate()
    {
        foreach (var cell in new[] { Normal, Reduce })
        {
            if (cell.Count == 0) throw new ArgumentException($"space {Name}: a cell without edges");
            if (cell.Any(e => e.Count != OpsPerEdge)) throw new ArgumentException($"space {Name}: edges with different candidate counts");
            foreach (var op in cell.SelectMany(e => e))
                if (!Kind.IsOp(op))
                    throw new ArgumentException($"space {Name}: unknown op '{op}'");
        }
    }
}
