using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Supernets.Darts;

/// <summary>One state of a DARTS-style cell and the edges leaving it (all at the same stride).</summary>
public sealed class DartsSource
{
    private readonly string[][] _candidates;

    internal DartsSource(DartsCellLayout layout, int index, long stride)
    {
        Index = index;
        Stride = stride;
        FirstNode = Math.Max(0, index - 1);
        Edges = [.. Enumerable.Range(FirstNode, layout.Steps - FirstNode).Select(i => DartsCellLayout.Edge(i, index))];
        var ops = layout.Candidates.SelectMany(e => e).Distinct();
        With = ops.ToDictionary(op => op, op => Enumerable.Range(0, Edges.Length).Where(t => layout.Candidates[Edges[t]].Contains(op)).ToArray());
        _candidates = [.. Edges.Select(e => layout.Candidates[e].ToArray())];
    }

    public int Index { get; }
    public long Stride { get; }
    /// <summary>The first node this state feeds; its edges go to nodes FirstNode.. in order.</summary>
    public int FirstNode { get; }
    /// <summary>Edge indices of the outgoing edges, by position t (into node FirstNode + t).</summary>
    public int[] Edges { get; }
    /// <summary>Per op: the positions t of the outgoing edges that carry it (the op's stacking order).</summary>
    public IReadOnlyDictionary<string, int[]> With { get; }

    public int[] EdgesWith(string op) => With.TryGetValue(op, out var t) ? t : [];

    /// <summary>Where the edge at position t sits in <paramref name="op"/>'s stack, or -1.</summary>
    public int StackIndex(string op, int t) => Array.IndexOf(EdgesWith(op), t);

    /// <summary>The α column of <paramref name="op"/> on the edge at position t, or -1.</summary>
    public int ColumnOf(string op, int t) => Array.IndexOf(_candidates[t], op);

    public int Position(int node) => node - FirstNode;
}
