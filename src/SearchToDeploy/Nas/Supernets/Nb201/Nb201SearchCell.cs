using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Supernets.Darts;
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
                var y = edges[e].DropEdge(edges[e].Forward(nodes[j], w));
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
