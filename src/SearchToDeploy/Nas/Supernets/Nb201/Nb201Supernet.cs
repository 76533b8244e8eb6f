using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets.Nb201;

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

    public override IReadOnlyDictionary<string, (Parameter Alpha, Parameter? Beta)> CellParameters =>
        new Dictionary<string, (Parameter, Parameter?)> { ["normal"] = (arch_parameters, arch_betas) };

    public override Tensor forward(Tensor x)
    {
        using var w = ArchMixing.Weights(arch_parameters, training);
        using var b = arch_betas is null ? null : EdgeWeights(arch_betas, NodeEdges);
        var mixing = new Dictionary<long, Nb201Mixing>();
        Tensor feature;
        using (var input = ToActivations(x)) feature = stem.call(input);
        try
        {
            foreach (var cell in cells)
            {
                var next = cell switch
                {
                    FusedNb201Cell f => f.Forward(feature, SharedMixing(mixing, feature.shape[1], w, b)),
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
    private Nb201Mixing SharedMixing(Dictionary<long, Nb201Mixing> cache, long channels, Tensor w, Tensor? b)
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
