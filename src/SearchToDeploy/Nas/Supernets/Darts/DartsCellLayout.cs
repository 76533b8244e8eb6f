using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Supernets.Darts;

/// <summary>A separable or dilated convolution op as the fused cell stacks it.</summary>
/// <param name="Separable">sep_conv (two ReLU-depthwise-pointwise-BN stages) rather than dil_conv (one).</param>
public sealed record ConvFamily(string Op, bool Separable, long Kernel, long Padding, long Dilation);

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

/// <summary>
/// What the fused cells of one type and width need from α and β, computed once per forward pass (cells of a type
/// share α): per state, each op's weight softmax(α)·β̂ on the edges that carry it (convolutions: repeated over each
/// edge's C/K channels, for folding into their last BN; pooling: a column per edge), and per outgoing edge the skip
/// weight and the bypass weight β̂ (one per-channel vector over all C channels at stride 1 with partial channels, in
/// the activations' type; scalars otherwise).
/// </summary>
public sealed class DartsMixing : IDisposable
{
    public sealed class Source
    {
        public Dictionary<string, Tensor> ConvScale { get; } = [];
        public Dictionary<string, Tensor> PoolScale { get; } = [];
        /// <summary>Stride 1: per position, the skip-and-bypass weight (vector [1, C, 1, 1] with partial channels, scalar or null without).</summary>
        public Tensor?[] Whole { get; init; } = [];
        /// <summary>Stride 2: per position, the weight of its FactorizedReduce skip op (scalar) or null.</summary>
        public Tensor?[] Reduce { get; init; } = [];
        /// <summary>Stride 2 with partial channels: per position, the bypass weight β̂ (scalar).</summary>
        public Tensor?[] Bypass { get; init; } = [];

        internal IEnumerable<Tensor?> All => ConvScale.Values.Concat(PoolScale.Values).Concat(Whole).Concat(Reduce).Concat(Bypass);
    }

    public Source[] Sources { get; }

    /// <param name="weights">softmax(α) of the cell type, [edges, ops].</param>
    /// <param name="edgeWeights">Node-normalised β, [edges], or null.</param>
    /// <param name="activations">The activations' type where it differs from the weights' (bfloat16), else null.</param>
    public DartsMixing(DartsCellLayout layout, Tensor weights, Tensor? edgeWeights, long channels, int k, ScalarType? activations = null)
    {
        long cp = channels / k;
        using var scaled = edgeWeights is null ? weights.alias() : weights * edgeWeights.unsqueeze(1);
        using var flat = scaled.flatten();
        Sources = new Source[layout.Sources.Length];
        foreach (var s in layout.Sources)
        {
            int n = s.Edges.Length;
            var m = Sources[s.Index] = new Source { Whole = new Tensor?[n], Reduce = new Tensor?[n], Bypass = new Tensor?[n] };
            Tensor Gather(string op)
            {
                var at = s.EdgesWith(op).Select(t => (long)(s.Edges[t] * layout.OpsPerEdge + s.ColumnOf(op, t))).ToArray();
                using var index = torch.tensor(at, device: flat.device);
                return flat.index_select(0, index);
            }
            foreach (var f in DartsCellLayout.ConvFamilies.Where(f => s.EdgesWith(f.Op).Length > 0))
                using (var w = Gather(f.Op)) m.ConvScale[f.Op] = w.repeat_interleave(cp);
            foreach (var op in DartsCellLayout.PoolOps.Where(op => s.EdgesWith(op).Length > 0))
                using (var w = Gather(op)) m.PoolScale[op] = w.unsqueeze(1);
            for (int t = 0; t < n; t++)
            {
                int e = s.Edges[t], skip = s.ColumnOf(OpRegistry.Skip, t);
                if (s.Stride != 1)
                {
                    if (skip >= 0) m.Reduce[t] = scaled[e, skip];
                    if (k > 1) m.Bypass[t] = edgeWeights is null ? torch.ones([], scaled.dtype, scaled.device) : edgeWeights[e];
                    continue;
                }
                if (k == 1) { m.Whole[t] = skip >= 0 ? scaled[e, skip] : null; continue; }
                using var head = skip >= 0 ? scaled[e, skip].expand(cp) : torch.zeros(cp, scaled.dtype, scaled.device);
                using var tail = edgeWeights is null ? torch.ones(channels - cp, scaled.dtype, scaled.device) : edgeWeights[e].expand(channels - cp);
                using var v = torch.cat([head, tail], 0);
                using var typed = v.As(activations);
                m.Whole[t] = typed.view(1, channels, 1, 1);
            }
        }
    }

    public void Dispose()
    {
        foreach (var t in Sources.SelectMany(s => s.All)) t?.Dispose();
    }
}
