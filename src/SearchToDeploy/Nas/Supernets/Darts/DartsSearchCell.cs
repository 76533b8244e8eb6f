using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets.Darts;

/// <summary>
/// A DARTS-style search cell (quark0/darts model_search.py; PC-DARTS): preprocess the two inputs to C channels,
/// then each intermediate node sums a MixedOp over every earlier state; the output concatenates the nodes.
/// </summary>
public sealed class DartsSearchCell : nn.Module
{
    private readonly Module<Tensor, Tensor> preprocess0;
    private readonly Module<Tensor, Tensor> preprocess1;
    private readonly ModuleList<MixedOp> edges;
    private readonly int _steps;
    private readonly int _k;

    public DartsSearchCell(SupernetConfig cfg, long cPrevPrev, long cPrev, long c, bool reduction, bool reductionPrev)
        : base(nameof(DartsSearchCell))
    {
        Reduction = reduction;
        _steps = cfg.Steps;
        _k = cfg.PartialK;
        var op = new OpConfig(cfg.Affine, cfg.TrackRunningStats, cfg.BnMomentum);
        preprocess0 = reductionPrev ? new FactorizedReduce(cPrevPrev, c, op) : new ReLUConvBN(cPrevPrev, c, 1, 1, 0, op);
        preprocess1 = new ReLUConvBN(cPrev, c, 1, 1, 0, op);
        var candidates = cfg.Space.EdgesOf(reduction);
        var list = new List<MixedOp>();
        for (int i = 0, e = 0; i < _steps; i++)
            for (int j = 0; j < i + 2; j++, e++)
                list.Add(new MixedOp(candidates[e], c, reduction && j < 2 ? 2 : 1, SpaceKind.DartsCell, op, cfg.PartialK));
        edges = ModuleList([.. list]);
        RegisterComponents();
    }

    public bool Reduction { get; }

    /// <param name="weights">softmax(α) of this cell type, [edges, ops].</param>
    /// <param name="edgeWeights">Node-normalised β, [edges], or null without edge normalisation.</param>
    public Tensor Forward(Tensor s0, Tensor s1, Tensor weights, Tensor? edgeWeights)
    {
        var states = new List<Tensor> { preprocess0.call(s0), preprocess1.call(s1) };
        int e = 0;
        for (int i = 0; i < _steps; i++)
        {
            Tensor? opSum = null, bypassSum = null;
            for (int j = 0; j < states.Count; j++, e++)
            {
                using var w = weights[e];
                var y = edges[e].DropEdge(edges[e].Forward(states[j], w));
                Tensor? b = _k > 1 ? edges[e].Bypass(states[j]) : null;
                if (edgeWeights is not null)
                {
                    using var beta = edgeWeights[e];
                    y = Scale(y, beta);
                    if (b is not null) b = Scale(b, beta);
                }
                opSum = Accumulate(opSum, y);
                if (b is not null) bypassSum = Accumulate(bypassSum, b);
            }
            if (bypassSum is null) states.Add(opSum!);
            else
            {
                states.Add(PartialChannels.Merge(opSum!, bypassSum, _k));
                opSum!.Dispose(); bypassSum.Dispose();
            }
        }
        var outputs = states.Skip(states.Count - _steps).ToArray();
        return torch.cat(outputs, 1);
    }

    internal static Tensor Scale(Tensor y, Tensor w)
    {
        var r = y * w;
        y.Dispose();
        return r;
    }

    internal static Tensor Accumulate(Tensor? sum, Tensor y)
    {
        if (sum is null) return y;
        var r = SearchToDeploy.Core.Torch.TensorSums.Add(sum, y);
        sum.Dispose(); y.Dispose();
        return r;
    }
}
