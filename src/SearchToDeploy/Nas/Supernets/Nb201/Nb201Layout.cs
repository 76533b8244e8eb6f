using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets.Nb201;

/// <summary>Where the NAS-Bench-201 ops sit in α's columns, and the cell's edge structure.</summary>
public sealed record Nb201Layout(int Skip, int Conv1, int Conv3, int Pool)
{
    /// <summary>The outgoing edges (edge index, target node) of each source node 0..2.</summary>
    public static readonly (int Edge, int To)[][] Outgoing =
        [.. Enumerable.Range(0, 3).Select(j => Enumerable.Range(j + 1, 3 - j).Select(i => (Nb201Arch.EdgeIndex(i, j), i)).ToArray())];

    public bool HasConv => Conv1 >= 0 || Conv3 >= 0;

    public static Nb201Layout Of(Spaces.SearchSpace space)
    {
        var ops = space.Normal[0].ToList();
        if (space.Normal.Any(e => !e.SequenceEqual(ops))) throw new ArgumentException("the fused NAS-Bench-201 cell needs the same ops on every edge");
        return new(ops.IndexOf(OpRegistry.Skip), ops.IndexOf(OpRegistry.Conv1), ops.IndexOf(OpRegistry.Conv3), ops.IndexOf(OpRegistry.AvgPool3));
    }
}
