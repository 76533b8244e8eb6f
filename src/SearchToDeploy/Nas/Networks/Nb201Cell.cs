using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Networks;

/// <summary>A NAS-Bench-201 cell with fixed ops (xautodl InferCell): node i = Σ_{j&lt;i} op_{i&lt;-j}(node j); output node 3.</summary>
public sealed class Nb201Cell : nn.Module
{
    private readonly ModuleList<Module<Tensor, Tensor>> edges;

    public Nb201Cell(Nb201Arch arch, long channels) : base(nameof(Nb201Cell))
    {
        edges = ModuleList([.. arch.EdgeOps.Select(op => OpRegistry.CreateNb201(op, channels, channels, 1, OpConfig.Eval))]);
        RegisterComponents();
    }

    /// <summary>The op on each edge, in <see cref="Nb201CellKind.EdgeKeys"/> order.</summary>
    public IReadOnlyList<Module<Tensor, Tensor>> Edges => [.. edges];

    public Tensor Forward(Tensor x)
    {
        var nodes = new List<Tensor> { x };
        for (int i = 1; i < Nb201Arch.Nodes; i++)
        {
            Tensor sum = edges[Nb201Arch.EdgeIndex(i, 0)].call(nodes[0]);
            for (int j = 1; j < i; j++)
            {
                using var y = edges[Nb201Arch.EdgeIndex(i, j)].call(nodes[j]);
                using var previous = sum;
                sum = SearchToDeploy.Core.Torch.TensorSums.Add(previous, y); // not in place: an identity edge's output aliases its input
            }
            nodes.Add(sum);
        }
        for (int i = 1; i < nodes.Count - 1; i++) nodes[i].Dispose();
        return nodes[^1];
    }
}
