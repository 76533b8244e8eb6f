using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Supernets.Darts;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets.Nb201;

/// <summary>
/// A NAS-Bench-201 search cell (xautodl SearchCell): nodes 1..3, node i = Σ_{j&lt;i} MixedOp_{i&lt;-j}(node j);
/// the output is node 3. With edge normalisation each incoming edge is scaled by its node-softmaxed β.
/// </summary>
public sealed class Nb201SearchCell : nn.Module
{
    private readonly ModuleList<MixedOp> edges;
    private readonly int _k;

    public Nb201SearchCell(SupernetConfig cfg, long channels) : base(nameof(Nb201SearchCell))
    {
        _k = cfg.PartialK;
        var op = new OpConfig(cfg.Affine, cfg.TrackRunningStats, cfg.BnMomentum);
        edges = ModuleList([.. cfg.Space.Normal.Select(ops => new MixedOp(ops, channels, 1, SpaceKind.Nb201, op, cfg.PartialK))]);
        RegisterComponents();
    }

    public Tensor Forward(Tensor x, Tensor weights, Tensor? edgeWeights)
    {
        var nodes = new List<Tensor> { x };
        for (int i = 1; i < Nb201Arch.Nodes; i++)
        {
            Tensor? opSum = null, bypassSum = null;
            for (int j = 0; j < i; j++)
            {
                int e = Nb201Arch.EdgeIndex(i, j);
                using var w = weights[e];
                var y = edges[e].Forward(nodes[j], w);
                Tensor? b = _k > 1 ? edges[e].Bypass(nodes[j]) : null;
                if (edgeWeights is not null)
                {
                    using var beta = edgeWeights[e];
                    y = DartsSearchCell.Scale(y, beta);
                    if (b is not null) b = DartsSearchCell.Scale(b, beta);
                }
                opSum = DartsSearchCell.Accumulate(opSum, y);
                if (b is not null) bypassSum = DartsSearchCell.Accumulate(bypassSum, b);
            }
            if (bypassSum is null) nodes.Add(opSum!);
            else
            {
                nodes.Add(PartialChannels.Merge(opSum!, bypassSum, _k));
                opSum!.Dispose(); bypassSum.Dispose();
            }
        }
        for (int i = 1; i < nodes.Count - 1; i++) nodes[i].Dispose();
        return nodes[^1];
    }
}

/// <summary>NAS-Bench-201's residual reduction block: ReLUConvBN 3x3 stride 2 -> ReLUConvBN 3x3, plus avgpool 2x2 + conv 1x1 shortcut.</summary>
public sealed class ResNetBasicBlock : Module<Tensor, Tensor>
{
    private readonly ReLUConvBN conv_a;
    private readonly ReLUConvBN conv_b;
    private readonly Sequential downsample;

    public ResNetBasicBlock(long cin, long cout, OpConfig cfg) : base(nameof(ResNetBasicBlock))
    {
        conv_a = new ReLUConvBN(cin, cout, 3, 2, 1, cfg, bias: !cfg.Affine);
        conv_b = new ReLUConvBN(cout, cout, 3, 1, 1, cfg, bias: !cfg.Affine);
        downsample = Sequential(AvgPool2d(2, 2), new Conv(cin, cout, 1));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var a = conv_a.call(x);
        using var b = conv_b.call(a);
        using var r = downsample.call(x);
        return SearchToDeploy.Core.Torch.Scalars.Add(r, b);
    }
}

/// <summary>
/// The NAS-Bench-201 search network (xautodl TinyNetworkDarts, C=16, N=5): stem, N cells at C, a residual reduction
/// block, N cells at 2C, another, N cells at 4C, then BN + ReLU, global pooling and a classifier. One α [6, 5] is
/// shared by every cell.
/// </summary>
public sealed class Nb201Supernet : Supernet
{
    private readonly Sequential stem;
    private readonly ModuleList<nn.Module> cells;
    private readonly BatchNorm2d lastact;
    private readonly Linear classifier;
    private readonly Parameter arch_parameters;
    private readonly Parameter? arch_betas;
    private static readonly (int Start, int Count)[] NodeEdges = [(0, 1), (1, 2), (3, 3)];
    private readonly Nb201Layout _layout;

    public Nb201Supernet(SupernetConfig cfg) : base(nameof(Nb201Supernet), cfg)
    {
        if (cfg.Space.Kind != SpaceKind.Nb201) throw new ArgumentException("Nb201Supernet needs the NAS-Bench-201 space");
        long c = cfg.Channels;
        _layout = Nb201Layout.Of(cfg.Space);
        stem = Sequential(new Conv(3, c, 3, padding: 1), BatchNorm2d(c, momentum: cfg.BnMomentum));
        var list = new List<nn.Module>();
        // The reduction blocks are not searched: affine BN as in xautodl's ResNetBasicblock default.
        var blockCfg = new OpConfig(Affine: true, TrackRunningStats: true, cfg.BnMomentum);
        for (int stage = 0; stage < 3; stage++)
        {
            long cs = c << stage;
            if (stage > 0) list.Add(new ResNetBasicBlock(cs / 2, cs, blockCfg));
            for (int i = 0; i < cfg.Layers; i++) list.Add(cfg.Fused ? new FusedNb201Cell(cfg, cs) : new Nb201SearchCell(cfg, cs));
        }
        cells = ModuleList([.. list]);
        lastact = BatchNorm2d(c * 4, momentum: cfg.BnMomentum);
        classifier = Linear(c * 4, cfg.Classes);
        arch_parameters = NewArchParameter(Nb201Arch.EdgeCount, cfg.Space.OpsPerEdge);
        if (cfg.EdgeNormalization) arch_betas = NewArchParameter(Nb201Arch.EdgeCount);
        RegisterComponents();
    }

    public override IReadOnlyList<Parameter> ArchParameters => arch_betas is null ? [arch_parameters] : [arch_parameters, arch_betas];

    public override Tensor forward(Tensor x)
    {
        using var w = arch_parameters.softmax(-1);
        using var b = arch_betas is null ? null : NodeSoftmax(arch_betas, NodeEdges);
        var mixing = new Dictionary<long, Nb201Mixing>();
        Tensor feature;
        using (var input = ToActivations(x)) feature = stem.call(input);
        try
        {
            foreach (var cell in cells)
            {
                var next = cell switch
                {
                    FusedNb201Cell f => f.Forward(feature, Mixing(mixing, feature.shape[1], w, b)),
                    Nb201SearchCell r => r.Forward(feature, w, b),
                    _ => ((ResNetBasicBlock)cell).call(feature),
                };
                feature.Dispose();
                feature = next;
            }
        }
        finally
        {
            foreach (var m in mixing.Values) m.Dispose();
        }
        using var normed = lastact.call(feature);
        feature.Dispose();
        using var act = functional.relu(normed);
        using var pooled = functional.adaptive_avg_pool2d(act, 1);
        using var flat = pooled.flatten(1);
        using var features = ToClassifier(flat, classifier);
        return classifier.call(features);
    }

    /// <summary>The α/β-derived weights shared by the fused cells of a stage (keyed by channel count), made once per pass.</summary>
    private Nb201Mixing Mixing(Dictionary<long, Nb201Mixing> cache, long channels, Tensor w, Tensor? b)
    {
        if (!cache.TryGetValue(channels, out var m))
            cache[channels] = m = new Nb201Mixing(w, b, _layout, channels, Config.PartialK, Config.Precision.Activations());
        return m;
    }

    public override IReadOnlyDictionary<string, CellWeights> ArchWeights()
    {
        using var _ = torch.no_grad();
        using var w = arch_parameters.softmax(-1);
        using var b = arch_betas is null ? null : NodeSoftmax(arch_betas, NodeEdges);
        return new Dictionary<string, CellWeights> { ["normal"] = new(ToRows(w), b is null ? null : ToVector(b)) };
    }

    public override Architecture Derive() =>
        Architecture.FromNb201(Derivation.Nb201(Config.Space.Normal, ArchWeights()["normal"].Effective, Config.DeriveWithoutNone));
}
