using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets.Nb201;

/// <summary>
/// A NAS-Bench-201 search cell computed node by node instead of edge by edge; the same function as
/// <see cref="Nb201SearchCell"/> (tests check it in float64), with far fewer kernels and passes over memory:
/// <list type="bullet">
/// <item>all edges leaving a node share its input, so its ReLU and average pooling are computed once, and the
/// nor_conv_3x3 and nor_conv_1x1 filters of all its outgoing edges are one convolution (1x1 filters as 3x3 filters
/// with zero outer taps) followed by one BN;</item>
/// <item>each op's weight softmax(α)·β̂ is folded into its BN's affine transform (w·(γx̂ + b) = (wγ)x̂ + wb);</item>
/// <item>skip (on the op channels) and the bypass (on the other channels, PC-DARTS) are one per-channel
/// multiply-add of the source node;</item>
/// <item>PC-DARTS's per-edge channel shuffle is applied once per node: it is a fixed permutation and commutes with
/// the node's weighted sum;</item>
/// <item>what depends only on α and β (shared by every cell) is computed once per forward pass (<see cref="Nb201Mixing"/>).</item>
/// </list>
/// </summary>
public sealed class FusedNb201Cell : nn.Module
{
    private readonly Nb201Layout _layout;
    private readonly int _k;
    private readonly long _cp;
    private readonly bool _track;
    private readonly double _momentum;
    private readonly NodeConvs?[] _convs = new NodeConvs?[3];

    public FusedNb201Cell(SupernetConfig cfg, long channels) : base(nameof(FusedNb201Cell))
    {
        _layout = Nb201Layout.Of(cfg.Space);
        _k = cfg.PartialK; _cp = channels / cfg.PartialK;
        _track = cfg.TrackRunningStats; _momentum = cfg.BnMomentum;
        if (_layout.HasConv)
            for (int j = 0; j < 3; j++)
            {
                _convs[j] = new NodeConvs(Nb201Layout.Outgoing[j].Length, _cp, _layout.Conv3 >= 0, _layout.Conv1 >= 0, cfg.Affine, _track);
                register_module($"node{j}", _convs[j]!);
            }
    }

    public Tensor Forward(Tensor x, Nb201Mixing mix)
    {
        var nodes = new Tensor[4];
        var convs = new Tensor[3][];
        var pooled = new Tensor?[3];
        nodes[0] = x;
        for (int i = 1; i < 4; i++)
        {
            // The node just finished feeds all later nodes: its ReLU, convolutions and pooling, once.
            int src = i - 1;
            using (var xp = _k > 1 ? nodes[src].narrow(1, 0, _cp) : nodes[src].alias())
            {
                // Split once: one SplitBackward for all blocks instead of a zero-filled gradient per slice.
                using (var c = _convs[src] is { } nc ? ConvBn(xp, nc, mix.ConvScale[src]!) : null)
                    convs[src] = c is null ? [] : c.split(_cp, 1);
                pooled[src] = _layout.Pool >= 0 ? AvgPool.Exclusive3x3(xp, 1) : null;
            }
            nodes[i] = Node(i, nodes, convs, pooled, mix);
        }
        foreach (var t in convs.SelectMany(c => c).Concat(pooled)) t?.Dispose();
        nodes[1].Dispose(); nodes[2].Dispose();
        return nodes[3];
    }

    /// <summary>ReLU -> the stacked convolutions of all edges leaving a node -> one BN applying each edge's op weight.</summary>
    private Tensor ConvBn(Tensor xp, NodeConvs p, Tensor scale)
    {
        using var relu = functional.relu(xp);
        using var conv = p.Convolve(relu);
        return FusedArithmetic.FoldedBatchNorm(conv, p.bn_weight, p.bn_bias, p.running_mean, p.running_var, scale, training || !_track, _momentum);
    }

    /// <summary>Node i = Σ_j [whole-channel term of node j + pool and conv terms on the op channels], then the shuffle.</summary>
    private Tensor Node(int i, Tensor[] nodes, Tensor[][] convs, Tensor?[] pooled, Nb201Mixing mix)
    {
        Tensor? whole = null, part = null;
        for (int j = 0; j < i; j++)
        {
            int e = Nb201Arch.EdgeIndex(i, j), n = i - j - 1; // n: the edge's position among node j's outgoing edges
            if (mix.Whole[e] is { } v) whole = FusedArithmetic.MultiplyAdd(whole, nodes[j], v);
            if (_layout.Conv3 >= 0) part = FusedArithmetic.Sum(part, convs[j][n]);
            if (_layout.Conv1 >= 0) part = FusedArithmetic.Sum(part, convs[j][(_layout.Conv3 >= 0 ? Nb201Layout.Outgoing[j].Length : 0) + n]);
            if (pooled[j] is { } p) part = FusedArithmetic.MultiplyAdd(part, p, mix.Pool[e]!);
        }
        if (part is null && whole is null) throw new InvalidOperationException("a NAS-Bench-201 node whose ops are all 'none'");
        if (_k == 1)
        {
            if (whole is null || part is null) return whole ?? part!;
            var sum = SearchToDeploy.Core.Torch.TensorSums.Add(whole, part);
            whole.Dispose(); part.Dispose();
            return sum;
        }
        if (part is not null)
        {
            using (var head = whole!.narrow(1, 0, _cp)) SearchToDeploy.Core.Torch.TensorSums.AddInPlace(head, part);
            part.Dispose();
        }
        var shuffled = PartialChannels.Shuffle(whole!, _k);
        whole!.Dispose();
        return shuffled;
    }
}

/// <summary>
/// The convolutions of the edges leaving one node, stacked: nor_conv_3x3 filters [edges*C', C', 3, 3] and
/// nor_conv_1x1 filters [edges*C', C', 1, 1], and one BN over all their output channels (3x3 edges first): its affine
/// parameters, or conv biases where BN is not affine (NAS-Bench-201's convention), and running statistics. Fields are
/// registered by name so module.to(...) replaces them in place.
/// </summary>
internal sealed class NodeConvs : nn.Module, IConvolutionWeights, IBatchNormAffine
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

    public IEnumerable<Parameter> ConvolutionWeights => new[] { conv3_weight, conv1_weight }.OfType<Parameter>();
    public IEnumerable<Parameter> ConvolutionBiases => bias is null ? [] : [bias];
    public IEnumerable<Parameter> BatchNormAffine => new[] { bn_weight, bn_bias }.OfType<Parameter>();

    public NodeConvs(int edges, long cp, bool conv3, bool conv1, bool affine, bool track) : base(nameof(NodeConvs))
    {
        long per = edges * cp, channels = ((conv3 ? 1 : 0) + (conv1 ? 1 : 0)) * per;
        using (torch.no_grad())
        {
            // Each edge's filters get their own nn.Conv2d-style initialisation (same fan-in as a single op's conv).
            if (conv3) conv3_weight = new Parameter(Conv.NewFilters([per, cp, 3, 3]));
            if (conv1) conv1_weight = new Parameter(Conv.NewFilters([per, cp, 1, 1]));
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

    /// <summary>
    /// The 3x3 and the 1x1 convolutions of all outgoing edges in one convolution call, outputs side by side
    /// ([3x3 edges..., 1x1 edges...]): the 1x1 filters ride along as 3x3 filters with zero outer taps (rebuilt from the
    /// parameters every pass, so the zeros never train). One call beats two here: oneDNN's fixed cost per call
    /// (layout reorders) outweighs the extra arithmetic at these channel counts.
    /// </summary>
    public Tensor Convolve(Tensor relu)
    {
        using var padded1 = conv1_weight is null ? null : functional.pad(conv1_weight, [1, 1, 1, 1]);
        using var filters = conv3_weight is null ? padded1!.alias() : padded1 is null ? conv3_weight.alias() : torch.cat([conv3_weight, padded1], 0);
        return Conv.Apply(relu, filters, bias, padding: 1);
    }
}
