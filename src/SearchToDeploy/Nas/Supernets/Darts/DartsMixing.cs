using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Supernets.Darts;

/// <summary>
/// What the fused cells of one type and width need from α and β, computed once per forward pass (cells of a type
/// share α): per state, each op's weight softmax(α)·β̂ on the edges that carry it (convolutions: repeated over each
/// edge's C/K channels, for folding into their last BN; pooling: a column per edge), and per outgoing edge the skip
/// weight and the bypass weight β̂ (one per-channel vector over all C channels at stride 1 with partial channels, in
/// the activations' type; scalars otherwise). An op a state's edges do not carry, or (with skipZero) carry at weight
/// exactly 0, has no entry.
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
    /// <param name="skipZero">Leave out a state's convolution or pooling op whose weight is exactly 0 on all its edges
    /// (<see cref="ArchMixing.SkipsZeroWeightOps"/>): <see cref="FusedDartsSource"/> then does not compute it.</param>
    public DartsMixing(DartsCellLayout layout, Tensor weights, Tensor? edgeWeights, long channels, int k, ScalarType? activations = null, bool skipZero = false)
    {
        long cp = channels / k;
        using var scaled = edgeWeights is null ? weights.alias() : weights * edgeWeights.unsqueeze(1);
        using var flat = scaled.flatten();
        double[]? host = null;
        if (skipZero)
            using (var d = flat.to_type(ScalarType.Float64).cpu()) host = d.data<double>().ToArray();
        Sources = new Source[layout.Sources.Length];
        foreach (var s in layout.Sources)
        {
            int n = s.Edges.Length;
            var m = Sources[s.Index] = new Source { Whole = new Tensor?[n], Reduce = new Tensor?[n], Bypass = new Tensor?[n] };
            // An op's positions in the flattened weights, or null where the state leaves it out.
            long[]? Used(string op)
            {
                long[] at = [.. s.EdgesWith(op).Select(t => (long)(s.Edges[t] * layout.OpsPerEdge + s.ColumnOf(op, t)))];
                return at.Length > 0 && (host is null || at.Any(i => host[i] != 0)) ? at : null;
            }
            Tensor Gather(long[] at)
            {
                using var index = torch.tensor(at, device: flat.device);
                return flat.index_select(0, index);
            }
            foreach (var f in DartsCellLayout.ConvFamilies)
                if (Used(f.Op) is { } at)
                    using (var w = Gather(at)) m.ConvScale[f.Op] = w.repeat_interleave(cp);
            foreach (var op in DartsCellLayout.PoolOps)
                if (Used(op) is { } at)
                    using (var w = Gather(at)) m.PoolScale[op] = w.unsqueeze(1);
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
