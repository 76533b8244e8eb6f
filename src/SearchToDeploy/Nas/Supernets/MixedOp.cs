using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>
/// One supernet edge: Σ_k w_k op_k(x) over its candidates. With partial channels (PC-DARTS, K &gt; 1) only the first
/// C/K channels go through the ops; the rest bypass them (through 2x2 max pooling on stride-2 edges). The channel
/// shuffle PC-DARTS applies per edge is left to the node (<see cref="PartialChannels.Merge"/>): shuffling commutes
/// with the node's weighted sum, so one shuffle per node gives the same result. "none" is skipped (it adds zero).
/// </summary>
public sealed class MixedOp : nn.Module
{
    private readonly ModuleList<Module<Tensor, Tensor>> ops;
    private readonly bool[] _skip;

    public MixedOp(IReadOnlyList<string> candidates, long channels, long stride, SpaceKind kind, OpConfig cfg, int partialK)
        : base(nameof(MixedOp))
    {
        Channels = channels; Stride = stride; PartialK = partialK;
        long c = channels / partialK;
        var list = new List<Module<Tensor, Tensor>>();
        foreach (var name in candidates)
        {
            list.Add(kind.CreateCandidate(name, c, stride, cfg));
        }
        ops = ModuleList([.. list]);
        _skip = [.. candidates.Select(n => n == OpRegistry.None)];
        RegisterComponents();
    }

    public long Channels { get; }
    public long Stride { get; }
    public int PartialK { get; }
    /// <summary>
    /// The probability its cell drops this edge's output with in training (<see cref="DropEdge"/>; RobustDARTS search).
    /// </summary>
    public double DropPathProb { get; set; }

    /// <summary>
    /// In training with <see cref="DropPathProb"/> above 0: the edge's output <paramref name="y"/> (its weighted sum,
    /// skip_connect included) dropped per image as RobustDARTS's search cell drops it, one mask for the whole edge;
    /// <paramref name="y"/> itself otherwise (disposed when replaced).
    /// </summary>
    public Tensor DropEdge(Tensor y)
    {
        if (!training || DropPathProb <= 0) return y;
        using (y) return DropPath.Apply(y, DropPathProb);
    }

    /// <summary>The weighted sum of the ops over the op part of x (all of x without partial channels).</summary>
    /// <param name="weights">This edge's softmaxed α (1-D).</param>
    public Tensor Forward(Tensor x, Tensor weights)
    {
        using var xp = PartialK > 1 ? x.narrow(1, 0, Channels / PartialK) : x.alias();
        Tensor? sum = null;
        for (int k = 0; k < _skip.Length; k++)
        {
            if (_skip[k]) continue;
            using var y = ops[k].call(xp);
            using var w = weights[k];
            using var wy = y * w;
            if (sum is null) sum = wy.alias();
            else { var s = SearchToDeploy.Core.Torch.TensorSums.Add(sum, wy); sum.Dispose(); sum = s; }
        }
        return sum ?? ops[0].call(xp); // only "none": zeros of the output shape
    }

    /// <summary>The channels that bypass the ops (partial channels only), at the edge's output resolution.</summary>
    public Tensor Bypass(Tensor x)
    {
        long cp = Channels / PartialK;
        using var rest = x.narrow(1, cp, Channels - cp);
        return Stride == 1 ? rest.alias() : functional.max_pool2d(rest, 2, 2);
    }
}
