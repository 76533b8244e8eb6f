using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets.Darts;

/// <summary>
/// The DARTS search network (C=16, 8 cells, reductions at 1/3 and 2/3, 4 nodes, stem multiplier 3): stem conv+BN,
/// cells sharing one α per cell type (and β for PC-DARTS), global pooling and a linear classifier.
/// </summary>
public sealed class DartsSupernet : Supernet
{
    private readonly Sequential stem;
    private readonly ModuleList<nn.Module> cells;
    private readonly Linear classifier;
    private readonly Parameter alphas_normal;
    private readonly Parameter alphas_reduce;
    private readonly Parameter? betas_normal;
    private readonly Parameter? betas_reduce;
    private readonly (int Start, int Count)[] _nodes;

    public DartsSupernet(SupernetConfig cfg) : base(nameof(DartsSupernet), cfg)
    {
        if (cfg.Space.Kind != SpaceKind.DartsCell) throw new ArgumentException("DartsSupernet needs a DARTS-style space");
        long cCurr = (long)cfg.StemMultiplier * cfg.Channels;
        stem = Sequential(new Conv(3, cCurr, 3, padding: 1), BatchNorm2d(cCurr, momentum: cfg.BnMomentum));
        long cpp = cCurr, cp = cCurr;
        cCurr = cfg.Channels;
        bool reductionPrev = false;
        bool fused = cfg.Fused && DartsCellLayout.Supports(cfg.Space);
        var list = new List<nn.Module>();
        for (int i = 0; i < cfg.Layers; i++)
        {
            bool reduction = i == cfg.Layers / 3 || i == 2 * cfg.Layers / 3;
            if (reduction) cCurr *= 2;
            list.Add(fused
                ? new FusedDartsCell(cfg, cpp, cp, cCurr, reduction, reductionPrev)
                : new DartsSearchCell(cfg, cpp, cp, cCurr, reduction, reductionPrev));
            reductionPrev = reduction;
            cpp = cp;
            cp = cfg.Steps * cCurr;
        }
        cells = ModuleList([.. list]);
        classifier = Linear(cp, cfg.Classes);
        int edgesPerCell = cfg.Space.Edges, ops = cfg.Space.OpsPerEdge;
        alphas_normal = NewArchParameter(edgesPerCell, ops);
        alphas_reduce = NewArchParameter(edgesPerCell, ops);
        if (cfg.EdgeNormalization)
        {
            betas_normal = NewArchParameter(edgesPerCell);
            betas_reduce = NewArchParameter(edgesPerCell);
        }
        _nodes = [.. Enumerable.Range(0, cfg.Steps).Select(i => (SearchSpace.DartsEdgeStart(i), i + 2))];
        RegisterComponents();
    }

    public override IReadOnlyDictionary<string, (Parameter Alpha, Parameter? Beta)> CellParameters =>
        new Dictionary<string, (Parameter, Parameter?)> { ["normal"] = (alphas_normal, betas_normal), ["reduce"] = (alphas_reduce, betas_reduce) };

    public override Tensor forward(Tensor x)
    {
        using var wn = ArchMixing.Weights(alphas_normal, training);
        using var wr = ArchMixing.Weights(alphas_reduce, training);
        using var bn = betas_normal is null ? null : EdgeWeights(betas_normal, _nodes);
        using var br = betas_reduce is null ? null : EdgeWeights(betas_reduce, _nodes);
        Tensor s0;
        using (var input = ToActivations(x)) s0 = stem.call(input);
        Tensor s1 = s0.alias();
        var mixing = new Dictionary<(bool, long), DartsMixing>();
        try
        {
            foreach (var cell in cells)
            {
                var next = cell switch
                {
                    FusedDartsCell f => f.Forward(s0, s1, SharedMixing(mixing, f, f.Reduction ? wr : wn, f.Reduction ? br : bn)),
                    DartsSearchCell r => r.Forward(s0, s1, r.Reduction ? wr : wn, r.Reduction ? br : bn),
                    _ => throw new InvalidOperationException(cell.GetName()),
                };
                s0.Dispose();
                s0 = s1;
                s1 = next;
            }
        }
        finally
        {
            foreach (var m in mixing.Values) m.Dispose();
        }
        s0.Dispose();
        using var pooled = functional.adaptive_avg_pool2d(s1, 1);
        s1.Dispose();
        using var flat = pooled.flatten(1);
        using var features = ToClassifier(flat, classifier);
        return classifier.call(features);
    }

    /// <summary>The α/β-derived weights shared by the fused cells of a type and width, made once per pass.</summary>
    private DartsMixing SharedMixing(Dictionary<(bool, long), DartsMixing> cache, FusedDartsCell cell, Tensor w, Tensor? b)
    {
        if (!cache.TryGetValue((cell.Reduction, cell.Channels), out var m))
            cache[(cell.Reduction, cell.Channels)] = m = new DartsMixing(cell.Layout, w, b, cell.Channels, Config.PartialK, Config.Precision.Activations(), ArchMixing.SkipsZeroWeightOps);
        return m;
    }

    public override IReadOnlyDictionary<string, CellWeights> ArchWeights()
    {
        using var _ = torch.no_grad();
        using var wn = alphas_normal.softmax(-1);
        using var wr = alphas_reduce.softmax(-1);
        using var bn = betas_normal is null ? null : NodeSoftmax(betas_normal, _nodes);
        using var br = betas_reduce is null ? null : NodeSoftmax(betas_reduce, _nodes);
        return new Dictionary<string, CellWeights>
        {
            ["normal"] = new(ToRows(wn), bn is null ? null : ToVector(bn)),
            ["reduce"] = new(ToRows(wr), br is null ? null : ToVector(br)),
        };
    }

    public override Architecture Derive()
    {
        var w = ArchWeights();
        return Architecture.FromCell(Config.Space.Name, Derivation.Darts(Config.Space, w["normal"].Effective, w["reduce"].Effective, Config.Steps));
    }
}
