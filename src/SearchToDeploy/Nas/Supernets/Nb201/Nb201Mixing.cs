using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Architectures;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets.Nb201;

/// <summary>
/// What the fused cells of one stage need from α and β, computed once per forward pass (every cell shares α):
/// per edge, the per-channel weights of the whole-node term (skip weight on the op channels, β on the bypass
/// channels; a scalar skip weight without partial channels; in the activations' type, so that multiplying by them
/// does not promote bfloat16 activations to float32) and the pooling weight; per source node, the BN scale of
/// its stacked convolutions ([3x3 of each outgoing edge..., 1x1 of each...], each repeated over C/K channels).
/// </summary>
public sealed class Nb201Mixing : IDisposable
{
    public Tensor?[] Whole { get; } = new Tensor?[Nb201Arch.EdgeCount];
    public Tensor?[] Pool { get; } = new Tensor?[Nb201Arch.EdgeCount];
    public Tensor?[] ConvScale { get; } = new Tensor?[3];

    /// <param name="weights">softmax(α), [6, ops].</param>
    /// <param name="edgeWeights">Node-normalised β, [6], or null.</param>
    /// <param name="activations">The activations' type where it differs from the weights' (bfloat16), else null.</param>
    public Nb201Mixing(Tensor weights, Tensor? edgeWeights, Nb201Layout layout, long channels, int k, ScalarType? activations = null)
    {
        long cp = channels / k;
        using var scaled = edgeWeights is null ? weights.alias() : weights * edgeWeights.unsqueeze(1);
        for (int e = 0; e < Nb201Arch.EdgeCount; e++)
        {
            if (layout.Pool >= 0) Pool[e] = scaled[e, layout.Pool];
            if (k == 1) { Whole[e] = layout.Skip >= 0 ? scaled[e, layout.Skip] : null; continue; }
            using var skip = layout.Skip >= 0 ? scaled[e, layout.Skip].expand(cp) : torch.zeros(cp, scaled.dtype, scaled.device);
            using var beta = edgeWeights is null ? torch.ones(channels - cp, scaled.dtype, scaled.device) : edgeWeights[e].expand(channels - cp);
            using var v = torch.cat([skip, beta], 0);
            using var typed = v.As(activations);
            Whole[e] = typed.view(1, channels, 1, 1);
        }
        if (!layout.HasConv) return;
        for (int j = 0; j < 3; j++)
        {
            using var index = torch.tensor(Nb201Layout.Outgoing[j].Select(o => (long)o.Edge).ToArray(), device: scaled.device);
            using var rows = scaled.index_select(0, index);
            var cols = new List<Tensor>();
            if (layout.Conv3 >= 0) cols.Add(rows.select(1, layout.Conv3));
            if (layout.Conv1 >= 0) cols.Add(rows.select(1, layout.Conv1));
            using var perOp = torch.cat(cols, 0);
            foreach (var c in cols) c.Dispose();
            ConvScale[j] = perOp.repeat_interleave(cp);
        }
    }

    public void Dispose()
    {
        foreach (var t in Whole.Concat(Pool).Concat(ConvScale)) t?.Dispose();
    }
}
