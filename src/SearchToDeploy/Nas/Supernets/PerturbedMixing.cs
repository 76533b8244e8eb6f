using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>
/// Mixing weights set from outside instead of softmax(α): per cell type, an explicit weight per edge and op, and a
/// mask per edge that also scales the edge weights β̂ of edge normalisation, so a masked edge contributes nothing
/// (its partial-channel bypass included). Perturbation-based selection (<see cref="PerturbationSelection"/>) sets
/// them to see how the supernet does without an op or an edge.
/// </summary>
public sealed class PerturbedMixing : ArchMixing, IDisposable
{
    private readonly Dictionary<Tensor, Tensor> _weights = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, Tensor> _edgeMasks = new(ReferenceEqualityComparer.Instance);

    /// <summary>Sets a cell type's weights [edges][ops] and edge mask [edges] (1 keeps an edge, 0 removes it).</summary>
    public void Set(Parameter alpha, Parameter? beta, double[][] weights, double[] edgeMask)
    {
        int edges = weights.Length, ops = weights[0].Length;
        var flat = new float[edges * ops];
        for (int e = 0; e < edges; e++)
            for (int k = 0; k < ops; k++)
                flat[e * ops + k] = (float)(weights[e][k] * edgeMask[e]);
        Replace(_weights, alpha, torch.tensor(flat, [edges, ops], dtype: alpha.dtype, device: alpha.device));
        if (beta is not null)
            Replace(_edgeMasks, beta, torch.tensor([.. edgeMask.Select(m => (float)m)], [edges], dtype: beta.dtype, device: beta.device));
    }

    private static void Replace(Dictionary<Tensor, Tensor> map, Tensor key, Tensor value)
    {
        if (map.Remove(key, out var old)) old.Dispose();
        map[key] = value;
    }

    public override Tensor Weights(Tensor alpha, bool training) =>
        _weights.TryGetValue(alpha, out var w) ? w.alias() : alpha.softmax(-1);

    public override Tensor EdgeWeights(Tensor beta, Tensor nodeNormalised) =>
        _edgeMasks.TryGetValue(beta, out var m) ? nodeNormalised * m : nodeNormalised.alias();

    public override bool SkipsZeroWeightOps => true;

    public void Dispose()
    {
        foreach (var t in _weights.Values.Concat(_edgeMasks.Values)) t.Dispose();
        _weights.Clear();
        _edgeMasks.Clear();
    }
}
