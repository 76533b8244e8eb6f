using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>A cell type's architecture weights: softmax(α) per edge, and β̂ per edge where edge normalisation is on.</summary>
public sealed record CellWeights(double[][] Ops, double[]? Edges)
{
    /// <summary>The weights the derivation ranks: softmax(α) scaled by the edge weight.</summary>
    public double[][] Effective => Edges is null ? Ops : [.. Ops.Select((row, e) => row.Select(w => w * Edges[e]).ToArray())];
}
