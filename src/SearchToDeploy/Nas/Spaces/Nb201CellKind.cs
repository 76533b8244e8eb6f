using SearchToDeploy.Nas.Ops;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Spaces;

/// <summary>NAS-Bench-201 cells: the op on each of the six edges between four nodes.</summary>
public sealed class Nb201CellKind : SpaceKind
{
    internal Nb201CellKind() { }

    /// <summary>(to, from) of each edge in α row order.</summary>
    public static readonly IReadOnlyList<(int To, int From)> EdgeKeys = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)];

    public override string Name => "nas-bench-201";
    public override bool IsOp(string op) => OpRegistry.IsNb201Op(op);

    public override Module<Tensor, Tensor> CreateCandidate(string op, long channels, long stride, OpConfig cfg) =>
        OpRegistry.CreateNb201(op, channels, channels, stride, cfg);

    public override string EdgeTitle(int edge) => $"edge {EdgeKeys[edge].To}<-{EdgeKeys[edge].From}";
    public override string DescribeLayers(int layers) => $"{layers} cells per stage";
    public override bool HasBenchmarkTable => true;
    public override bool DerivationMayKeepNone => true;
    public override bool Transfers => false;

    public override void CheckShape(SearchSpace space, int steps, int layers)
    {
        if (steps != 4) throw new InputException($"--nodes {steps}: NAS-Bench-201 cells have 4 nodes (3 besides the input); drop --nodes");
    }
}
