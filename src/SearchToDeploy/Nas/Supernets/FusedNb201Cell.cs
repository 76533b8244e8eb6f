using SearchToDeploy.Nas.Genotypes;
using SearchToDeploy.Nas.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>
/// A NAS-Bench-201 search cell computed node by node instead of edge by edge; the same function as
/// <see cref="Nb201SearchCell"/> (tests check it), with far fewer kernel launches and passes over memory:
/// <list type="bullet">
/// <item>all edges leaving a node share its input, so its ReLU and average pooling are computed once, and the
/// nor_conv_3x3 (nor_conv_1x1) filters of all its outgoing edges are one convolution with their filters stacked;</item>
/// <item>each op's weight softmax(α) (times the edge weight β̂) is folded into its BN's affine transform
/// (w·(γx̂ + b) = (wγ)x̂ + wb), so weighting conv outputs costs nothing;</item>
/// <item>with partial channels, PC-DARTS's per-edge channel shuffle is applied once per node: the shuffle is a fixed
/// permutation and commutes with the node's weighted sum.</item>
/// </list>
/// Parameters are stored stacked per source node ("conv3_0" holds the 3x3 filters of edges 1&lt;-0, 2&lt;-0, 3&lt;-0);
/// BN statistics are per channel, so a stacked BN is the per-op BNs side by side.
/// </summary>
public sealed class FusedNb201Cell : nn.Module, INb201Cell
{
    private readonly int _k;
    private readonly long _c;
    private readonly long _cp;
    private readonly bool _affine;
    private readonly bool _track;
    private readonly double _momentum;
    private readonly int _skip, _conv1, _conv3, _pool;
    private readonly NodeConvs?[] _convs = new NodeConvs?[3];

    /// <summary>The outgoing edges (edge index, target node) of each source node 0..2.</summary>
    private static readonly (int Edge, int To)[][] Outgoing =
        [.. Enumerable.Range(0, 3).Select(j => Enumerable.Range(j + 1, 3 - j).Select(i => (Nb201Arch.EdgeIndex(i, j), i)).ToArray())];

    public FusedNb201Cell(SupernetConfig cfg, long channels) : base(nameof(FusedNb201Cell))
    {
        var ops = cfg.Space.Normal[0];
        if (cfg.Space.Normal.Any(e => !e.SequenceEqual(ops))) throw new ArgumentException("the fused NAS-Bench-201 cell needs the same ops on every edge");
        _k = cfg.PartialK; _c = channels; _cp = channels / cfg.PartialK;
        _affine = cfg.Affine; _track = cfg.TrackRunningStats; _momentum = cfg.BnMomentum;
        _skip = IndexOf(ops, OpRegistry.Skip); _conv1 = IndexOf(ops, OpRegistry.Conv1); _conv3 = IndexOf(ops, OpRegistry.Conv3); _pool = IndexOf(ops, OpRegistry.AvgPool3);
        if (_conv3 >= 0 || _conv1 >= 0)
            for (int j = 0; j < 3; j++)
            {
                _convs[j] = new NodeConvs(Outgoing[j].Length, _cp, _conv3 >= 0, _conv1 >= 0, _affine, _track);
                register_module($"node{j}", _convs[j]!);
            }
    }

    private static int IndexOf(IReadOnlyList<string> ops, string op)
    {
        for (int i = 0; i < ops.Count; i++) if (ops[i] == op) return i;
        return -1;
    }

    /// <param name="weights">softmax(α), [6, ops].</param>
    /// <param name="edgeWeights">Node-normalised β, [6], or null.</param>
    public Tensor Forward(Tensor x, Tensor weights, Tensor? edgeWeights)
    {
        using var scaled = edgeWeights is null ? weights.alias() : weights * edgeWeights.unsqueeze(1);
        var nodes = new Tensor[4];
        var convs = new Tensor?[3];
        var pooled = new Tensor?[3];
        nodes[0] = x;
        for (int i = 1; i < 4; i++)
        {
            // The node just finished feeds all later nodes: its shared ReLU/convolutions and pooling, once.
            int src = i - 1;
            using (var xp = Partial(nodes[src]))
            {
                convs[src] = _convs[src] is { } nc ? ConvBnWeighted(xp, nc, scaled, Outgoing[src]) : null;
                pooled[src] = _pool >= 0 ? AvgPool.Inclusive3x3(xp, 1) : null;
            }
            nodes[i] = Node(i, nodes, convs, pooled, scaled, edgeWeights);
        }
        foreach (var t in convs.Concat(pooled)) t?.Dispose();
        nodes[1].Dispose(); nodes[2].Dispose();
        return nodes[3];
    }

    private Tensor Partial(Tensor x) => _k > 1 ? x.narrow(1, 0, _cp) : x.alias();

    /// <summary>
    /// Node i = Σ_j [skip, pool and conv terms of edge i&lt;-j] (+ β-weighted bypass of the other channels with partial
    /// channels, then the shuffle). Skip and bypass act on whole channels of node j, so they are one per-channel
    /// multiply-add of node j; the pool and conv terms are added to the first C/K channels.
    /// </summary>
    private Tensor Node(int i, Tensor[] nodes, Tensor?[] convs, Tensor?[] pooled, Tensor scaled, Tensor? edgeWeights)
    {
        Tensor? whole = null, part = null;
        for (int j = 0; j < i; j++)
        {
            int e = Nb201Arch.EdgeIndex(i, j);
            using var v = ChannelWeights(scaled, edgeWeights, e);
            if (v is not null) whole = MultiplyAdd(whole, nodes[j], v);
            int n = i - j - 1; // position of edge i<-j among node j's outgoing edges
            long c3Blocks = _conv3 >= 0 ? Outgoing[j].Length : 0;
            if (_conv3 >= 0) { using var block = convs[j]!.narrow(1, n * _cp, _cp); part = Sum(part, block); }
            if (_conv1 >= 0) { using var block = convs[j]!.narrow(1, (c3Blocks + n) * _cp, _cp); part = Sum(part, block); }
            if (pooled[j] is { } p)
            {
                using var w = scaled[e, _pool];
                using var corr = AvgPool.Correction(nodes[j], 1) * w;
                part = MultiplyAdd(part, p, corr);
            }
        }
        if (part is null && whole is null) throw new InvalidOperationException("a NAS-Bench-201 node whose ops are all 'none'");
        if (_k == 1)
        {
            if (whole is null) return part!;
            if (part is null) return whole;
            var sum = whole + part;
            whole.Dispose(); part.Dispose();
            return sum;
        }
        if (part is not null)
        {
            using (var head = whole!.narrow(1, 0, _cp)) head.add_(part);
            part.Dispose();
        }
        var shuffled = PartialChannels.Shuffle(whole!, _k);
        whole!.Dispose();
        return shuffled;
    }

    /// <summary>
    /// The per-channel weights with which node j enters node i through edge e: the skip weight on the op channels and,
    /// with partial channels, the edge weight β on the bypass channels; null when nothing passes whole.
    /// </summary>
    private Tensor? ChannelWeights(Tensor scaled, Tensor? edgeWeights, int e)
    {
        if (_k == 1) return _skip >= 0 ? scaled[e, _skip] : null;
        using var skip = _skip >= 0 ? scaled[e, _skip].expand(_cp) : torch.zeros(_cp, scaled.dtype, scaled.device);
        using var beta = edgeWeights is null ? torch.ones(_c - _cp, scaled.dtype, scaled.device) : edgeWeights[e].expand(_c - _cp);
        using var v = torch.cat([skip, beta], 0);
        return v.view(1, _c, 1, 1);
    }

    private static Tensor MultiplyAdd(Tensor? sum, Tensor x, Tensor w)
    {
        if (sum is null) return x * w;
        var r = torch.addcmul(sum, x, w, 1);
        sum.Dispose();
        return r;
    }

    private static Tensor Sum(Tensor? sum, Tensor x)
    {
        if (sum is null) return x.alias();
        var r = sum + x;
        sum.Dispose();
        return r;
    }

    /// <summary>
    /// ReLU -> one convolution holding the nor_conv_3x3 filters and the nor_conv_1x1 filters (as 3x3 filters with
    /// zero outer taps, rebuilt every pass so the zeros never train) of all edges leaving a node -> one BN whose affine
    /// transform also applies each edge's op weight. Output channels: [3x3 of each edge ..., 1x1 of each edge ...].
    /// </summary>
    private Tensor ConvBnWeighted(Tensor xp, NodeConvs p, Tensor scaled, (int Edge, int To)[] outgoing)
    {
        using var relu = functional.relu(xp);
        using var padded1 = p.conv1_weight is null ? null : functional.pad(p.conv1_weight, [1, 1, 1, 1]);
        using var weight = p.conv3_weight is null ? padded1!.alias() : padded1 is null ? p.conv3_weight.alias() : torch.cat([p.conv3_weight, padded1], 0);
        using var conv = Conv.Apply(relu, weight, p.bias, padding: 1);

        using var index = torch.tensor(outgoing.Select(o => (long)o.Edge).ToArray());
        using var rows = scaled.index_select(0, index);
        var scales = new List<Tensor>();
        if (p.conv3_weight is not null) scales.Add(rows.select(1, _conv3));
        if (p.conv1_weight is not null) scales.Add(rows.select(1, _conv1));
        using var opWeights = torch.cat(scales, 0);
        foreach (var t in scales) t.Dispose();
        using var perChannel = opWeights.repeat_interleave(_cp);
        using var w = p.bn_weight is null ? perChannel.alias() : p.bn_weight * perChannel;
        using var b = p.bn_bias is null ? null : p.bn_bias * perChannel;
        return functional.batch_norm(conv, p.running_mean, p.running_var, w, b, training || !_track, _momentum, 1e-5);
    }

}

/// <summary>
/// The convolutions of the edges leaving one node, stacked: nor_conv_3x3 filters [edges*C', C', 3, 3] and
/// nor_conv_1x1 filters [edges*C', C', 1, 1], and one BN over all their output channels (3x3 edges first): its affine
/// parameters, or conv biases where BN is not affine (NAS-Bench-201's convention), and running statistics. Fields are
/// registered by name so module.to(...) replaces them in place.
/// </summary>
internal sealed class NodeConvs : nn.Module
{
#pragma warning disable IDE1006 // state-dict names
    internal readonly Parameter? conv3_weight;
    internal readonly Parameter? conv1_weight;
    internal readonly Parameter? bias;
    internal readonly Parameter? bn_weight;
    internal readonly Parameter? bn_bias;
    internal readonly Tensor? running_mean;
    internal readonly Tensor? running_var;
#pragma warning restore IDE1006

    public NodeConvs(int edges, long cp, bool conv3, bool conv1, bool affine, bool track) : base(nameof(NodeConvs))
    {
        long per = edges * cp, channels = ((conv3 ? 1 : 0) + (conv1 ? 1 : 0)) * per;
        using (torch.no_grad())
        {
            // Each edge's filters get their own nn.Conv2d-style initialisation (same fan-in as a single op's conv).
            if (conv3) conv3_weight = new Parameter(Filters(per, cp, 3));
            if (conv1) conv1_weight = new Parameter(Filters(per, cp, 1));
            if (!affine)
            {
                var parts = new List<Tensor>();
                if (conv3) parts.Add(torch.empty(per).uniform_(-1 / Math.Sqrt(cp * 9), 1 / Math.Sqrt(cp * 9)));
                if (conv1) parts.Add(torch.empty(per).uniform_(-1 / Math.Sqrt(cp), 1 / Math.Sqrt(cp)));
                bias = new Parameter(torch.cat(parts, 0));
            }
            else
            {
                bn_weight = new Parameter(torch.ones(channels));
                bn_bias = new Parameter(torch.zeros(channels));
            }
            if (track)
            {
                running_mean = torch.zeros(channels);
                running_var = torch.ones(channels);
            }
        }
        RegisterComponents();
    }

    private static Tensor Filters(long count, long cin, long k)
    {
        var w = torch.empty([count, cin, k, k]);
        nn.init.kaiming_uniform_(w, Math.Sqrt(5));
        return w;
    }
}
