using SearchToDeploy.Nas.Ops;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Spaces;

/// <summary>DARTS-style cells (the DARTS space and RobustDARTS S1-S4).</summary>
public sealed class DartsCellKind : SpaceKind
{
    internal DartsCellKind() { }

    public override string Name => "darts-cell";
    public override bool IsOp(string op) => OpRegistry.IsDartsOp(op);

    /// <summary>Pooling in the search cell is followed by an affine-free BN so candidates stay comparable (DARTS).</summary>
    public override Module<Tensor, Tensor> CreateCandidate(string op, long channels, long stride, OpConfig cfg)
    {
        var m = OpRegistry.CreateDarts(op, channels, stride, cfg);
        return OpRegistry.IsPool(op) ? new WithBatchNorm(m, channels, cfg) : m;
    }

    public override string EdgeTitle(int edge)
    {
        int node = 0;
        while (SearchSpace.DartsEdgeStart(node + 1) <= edge) node++;
        int input = edge - SearchSpace.DartsEdgeStart(node);
        string from = input switch { 0 => "c_{k-2}", 1 => "c_{k-1}", _ => $"node {input - 2}" };
        return $"edge {edge}: {from} -> node {node}";
    }

    public override string DescribeLayers(int layers) => $"{layers} cells";
    public override bool HasBenchmarkTable => false;
    public override bool DerivationMayKeepNone => false;
    public override bool Transfers => true;

    public override void CheckShape(SearchSpace space, int steps, int layers)
    {
        if (space.Edges != SearchSpace.DartsEdgeCount(steps))
            throw new InputException($"space {space.Name} has {space.Edges} edges per cell; {steps} nodes need {SearchSpace.DartsEdgeCount(steps)}");
        // The cells at layers/3 and 2*layers/3 reduce: with fewer than 3 every cell reduces, and α of the normal cell
        // would be searched by nothing (its derived cell read from the random initial values).
        if (layers < 3)
            throw new InputException($"--layers {layers}: a {space.Name} supernet needs 3 or more cells (two of them reduce; fewer leave no normal cell to search)");
    }
}
