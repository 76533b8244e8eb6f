using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Ops;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets.Darts;

/// <summary>
/// A DARTS-style search cell computed state by state instead of edge by edge; the same function as
/// <see cref="DartsSearchCell"/> (tests check it in float64), with far fewer kernels and passes over memory:
/// <list type="bullet">
/// <item>all edges leaving a state share its input, so its ReLU, its max and average pooling (with their BN
/// statistics) and, with partial channels, its bypass are computed once;</item>
/// <item>each separable or dilated convolution op of all those edges is one stacked pipeline
/// (<see cref="StackedConvOp"/>): depthwise over the ReLU repeated per edge, grouped pointwise, one BN;</item>
/// <item>each op's weight softmax(α)·β̂ is folded into its last BN's affine transform; a pooling op's affine BN and
/// weight are one per-channel multiply-add of the shared normalised pooling;</item>
/// <item>skip (on the op channels) and the bypass (on the others) are one per-channel multiply-add of the state, and
/// PC-DARTS's channel shuffle is applied once per node (a fixed permutation; it commutes with the node's sum);</item>
/// <item>what depends only on α and β is computed once per forward pass for all cells of a type and width
/// (<see cref="DartsMixing"/>).</item>
/// </list>
/// Not for S4's noise op or drop-path, which need each op's own output: those search with the reference cell.
/// </summary>
public sealed class FusedDartsCell : nn.Module
{
    private readonly Module<Tensor, Tensor> preprocess0;
    private readonly Module<Tensor, Tensor> preprocess1;
    private readonly FusedDartsSource[] _sources;
    private readonly int _k;
    private readonly long _c, _cp;

    public FusedDartsCell(SupernetConfig cfg, long cPrevPrev, long cPrev, long c, bool reduction, bool reductionPrev)
        : base(nameof(FusedDartsCell))
    {
        Reduction = reduction;
        _k = cfg.PartialK; _c = c; _cp = c / cfg.PartialK;
        var op = new OpConfig(cfg.Affine, cfg.TrackRunningStats, cfg.BnMomentum);
        preprocess0 = reductionPrev ? new FactorizedReduce(cPrevPrev, c, op) : new ReLUConvBN(cPrevPrev, c, 1, 1, 0, op);
        preprocess1 = new ReLUConvBN(cPrev, c, 1, 1, 0, op);
        Layout = DartsCellLayout.Of(cfg.Space, reduction, cfg.Steps);
        _sources = [.. Layout.Sources.Select(s => new FusedDartsSource(s, c, _k, op))];
        RegisterComponents();
        for (int j = 0; j < _sources.Length; j++) register_module($"state{j}", _sources[j]);
    }

    public bool Reduction { get; }
    public DartsCellLayout Layout { get; }
    public long Channels => _c;

    public Tensor Forward(Tensor s0, Tensor s1, DartsMixing mix)
    {
        int steps = Layout.Steps;
        var states = new List<Tensor> { preprocess0.call(s0), preprocess1.call(s1) };
        var outs = new FusedDartsSource.Outputs?[_sources.Length];
        try
        {
            for (int j = 0; j < 2; j++) outs[j] = _sources[j].Forward(states[j], mix.Sources[j]);
            for (int i = 0; i < steps; i++)
            {
                states.Add(Node(i, states, outs, mix));
                if (i + 2 < _sources.Length) outs[i + 2] = _sources[i + 2].Forward(states[i + 2], mix.Sources[i + 2]);
            }
            return torch.cat(states.GetRange(2, steps), 1);
        }
        finally
        {
            foreach (var o in outs) o?.Dispose();
            foreach (var s in states) s.Dispose();
        }
    }

    /// <summary>
    /// Node i = Σ over its input states of [skip and bypass terms of the whole state + op terms on the op channels],
    /// then the shuffle. At stride 2 (a reduction cell's inputs) the skip op is FactorizedReduce and the bypass is
    /// 2x2 max pooled, so those go to the op channels and the bypass channels separately.
    /// </summary>
    private Tensor Node(int i, List<Tensor> states, FusedDartsSource.Outputs?[] outs, DartsMixing mix)
    {
        Tensor? part = null, whole = null, tail = null, bias = null;
        for (int j = 0; j < i + 2; j++)
        {
            var s = Layout.Sources[j];
            var o = outs[j]!;
            var m = mix.Sources[j];
            int t = s.Position(i);
            foreach (var (op, y) in o.Convs)
            {
                int p = s.StackIndex(op, t);
                if (p < 0) continue;
                using var slice = y.narrow(1, p * _cp, _cp);
                part = FusedArithmetic.Sum(part, slice);
            }
            foreach (var (op, pool) in o.Pools)
            {
                int p = s.StackIndex(op, t);
                if (p < 0) continue;
                using (var row = pool.Scale[p]) using (var scale = row.view(1, _cp, 1, 1)) part = FusedArithmetic.MultiplyAdd(part, pool.Normalised, scale);
                if (pool.Bias is not null) using (var b = pool.Bias[p]) bias = FusedArithmetic.Sum(bias, b);
            }
            if (s.Stride == 1)
            {
                if (m.Whole[t] is { } v) whole = FusedArithmetic.MultiplyAdd(whole, states[j], v);
                continue;
            }
            if (o.Reduce[t] is { } r) part = FusedArithmetic.MultiplyAdd(part, r, m.Reduce[t]!);
            if (o.Bypass is { } bp) tail = FusedArithmetic.MultiplyAdd(tail, bp, m.Bypass[t]!);
        }
        if (bias is not null)
        {
            using (bias)
            using (var typed = bias.As(part!.dtype))
            using (var b = typed.view(1, _cp, 1, 1))
            {
                var withBias = SearchToDeploy.Core.Torch.TensorSums.Add(part, b);
                part.Dispose();
                part = withBias;
            }
        }
        return Assemble(i, states, part, whole, tail);
    }

    private Tensor Assemble(int i, List<Tensor> states, Tensor? part, Tensor? whole, Tensor? tail)
    {
        if (_k == 1)
        {
            if (whole is null || part is null) return whole ?? part ?? Zeros(states, _c);
            var sum = SearchToDeploy.Core.Torch.TensorSums.Add(whole, part);
            whole.Dispose(); part.Dispose();
            return sum;
        }
        if (whole is null)
        {
            // Only stride-2 inputs (a reduction cell's first node): op channels and bypass side by side.
            using var head = part ?? Zeros(states, _cp);
            using var cat = torch.cat([head, tail!], 1);
            tail!.Dispose();
            return PartialChannels.Shuffle(cat, _k);
        }
        if (part is not null)
        {
            using (var h = whole.narrow(1, 0, _cp)) SearchToDeploy.Core.Torch.TensorSums.AddInPlace(h, part);
            part.Dispose();
        }
        if (tail is not null)
        {
            using (var rest = whole.narrow(1, _cp, _c - _cp)) SearchToDeploy.Core.Torch.TensorSums.AddInPlace(rest, tail);
            tail.Dispose();
        }
        var shuffled = PartialChannels.Shuffle(whole, _k);
        whole.Dispose();
        return shuffled;
    }

    /// <summary>A node whose every incoming op is "none": zeros at the cell's output resolution.</summary>
    private Tensor Zeros(List<Tensor> states, long channels)
    {
        var x = states[1];
        long stride = Layout.Sources[1].Stride;
        return torch.zeros([x.shape[0], channels, (x.shape[2] + stride - 1) / stride, (x.shape[3] + stride - 1) / stride], x.dtype, x.device);
    }
}
