using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets.Darts;

/// <summary>
/// One separable or dilated convolution op on all m edges leaving a state, stacked edge by edge along the channels:
/// depthwise filters [m·C', 1, k, k] over the state's ReLU repeated m times, pointwise filters [m·C', C', 1, 1] in m
/// groups, and one BN over the m·C' channels (BN statistics are per channel, so stacking changes nothing). Each edge's
/// filters have the fan-in, and so the initialisation, of a single op's.
/// </summary>
internal sealed class StackedConvOp : nn.Module, IConvolutionWeights
{
#pragma warning disable IDE1006 // state-dict names
    private readonly Parameter dw1;
    private readonly Parameter pw1;
    private readonly BatchNorm2d bn1;
    private readonly Parameter? dw2;
    private readonly Parameter? pw2;
    private readonly BatchNorm2d? bn2;
#pragma warning restore IDE1006
    private readonly ConvFamily _f;
    private readonly long _stride, _channels;
    private readonly OpConfig _cfg;

    public StackedConvOp(ConvFamily family, int edges, long cp, long stride, OpConfig cfg) : base(nameof(StackedConvOp))
    {
        _f = family; _stride = stride; _cfg = cfg; Edges = edges;
        _channels = edges * cp;
        using (torch.no_grad())
        {
            dw1 = new Parameter(Conv.NewFilters([_channels, 1, family.Kernel, family.Kernel]));
            pw1 = new Parameter(Conv.NewFilters([_channels, cp, 1, 1]));
            if (family.Separable)
            {
                dw2 = new Parameter(Conv.NewFilters([_channels, 1, family.Kernel, family.Kernel]));
                pw2 = new Parameter(Conv.NewFilters([_channels, cp, 1, 1]));
            }
        }
        bn1 = Bn(_channels, cfg);
        if (family.Separable) bn2 = Bn(_channels, cfg);
        RegisterComponents();
    }

    public int Edges { get; }
    public IEnumerable<Parameter> ConvolutionWeights => new[] { dw1, pw1, dw2, pw2 }.OfType<Parameter>();
    public IEnumerable<Parameter> ConvolutionBiases => [];

    /// <param name="repeated">The state's ReLU (op channels), repeated once per stacked edge.</param>
    /// <param name="scale">Each edge's op weight repeated over its channels, [m·C']: folded into the last BN.</param>
    public Tensor Forward(Tensor repeated, Tensor scale)
    {
        using var p1 = Stage(repeated, dw1, pw1, _stride, _f.Dilation);
        if (!_f.Separable) return FoldedBn(p1, bn1, scale);
        using var b1 = bn1.call(p1);
        using var r1 = functional.relu(b1);
        using var p2 = Stage(r1, dw2!, pw2!, 1, 1);
        return FoldedBn(p2, bn2!, scale);
    }

    private Tensor Stage(Tensor x, Tensor dw, Tensor pw, long stride, long dilation)
    {
        using var d = Conv.Apply(x, dw, null, stride, _f.Padding, dilation, groups: _channels);
        return Conv.Apply(d, pw, null, groups: Edges);
    }

    /// <summary>The last BN, applying each edge's op weight (<see cref="FusedArithmetic.FoldedBatchNorm"/>).</summary>
    private Tensor FoldedBn(Tensor x, BatchNorm2d bn, Tensor scale)
    {
        if (training && bn.num_batches_tracked is { } n)
            using (torch.no_grad())
            using (var one = torch.ones_like(n))
                SearchToDeploy.Core.Torch.TensorSums.AddInPlace(n, one); // as the module counts its batches (read only without momentum)
        return FusedArithmetic.FoldedBatchNorm(x, bn.weight, bn.bias, bn.running_mean, bn.running_var, scale, training || !_cfg.TrackRunningStats, _cfg.BnMomentum);
    }

    internal static BatchNorm2d Bn(long channels, OpConfig cfg, bool? affine = null) =>
        BatchNorm2d(channels, momentum: cfg.BnMomentum, affine: affine ?? cfg.Affine, track_running_stats: cfg.TrackRunningStats);
}

/// <summary>
/// A pooling op (3x3 max or average, with DARTS's BN after it) on all m edges leaving a state: the pooling and its BN
/// statistics are computed once (every edge sees the same input); each edge keeps its own affine parameters (random
/// features), stacked [m·C'], and applies them, with its op weight, as a per-channel multiply-add in the node.
/// </summary>
internal sealed class StackedPoolBn : nn.Module, IBatchNormAffine
{
#pragma warning disable IDE1006 // state-dict names
    private readonly BatchNorm2d bn;
    private readonly Parameter? weight;
    private readonly Parameter? bias;
#pragma warning restore IDE1006
    private readonly bool _max;
    private readonly long _stride, _cp;
    private readonly int _edges;

    public IEnumerable<Parameter> BatchNormAffine => new[] { weight, bias }.OfType<Parameter>();

    public StackedPoolBn(bool max, int edges, long cp, long stride, OpConfig cfg) : base(nameof(StackedPoolBn))
    {
        _max = max; _stride = stride; _cp = cp; _edges = edges;
        bn = StackedConvOp.Bn(cp, cfg, affine: false);
        if (cfg.Affine)
        {
            weight = new Parameter(torch.ones(edges * cp));
            bias = new Parameter(torch.zeros(edges * cp));
        }
        RegisterComponents();
    }

    /// <summary>The normalised pooling x̂ of the state's op channels (updating the running statistics once).</summary>
    public Tensor Normalised(Tensor xp)
    {
        using var pooled = _max ? functional.max_pool2d(xp, 3, _stride, 1) : AvgPool.Exclusive3x3(xp, _stride);
        return bn.call(pooled);
    }

    /// <summary>Per edge: the per-channel scale w·γ [m, C'] in the activations' type, and the bias w·b [m, C'] (null without affine).</summary>
    /// <param name="scale">Each edge's op weight, [m, 1].</param>
    public (Tensor Scale, Tensor? Bias) Rows(Tensor scale, ScalarType activations)
    {
        using var gamma = weight?.view(_edges, _cp);
        using var s = gamma is null ? scale.expand(_edges, _cp) : scale * gamma;
        if (bias is null) return (s.As(activations), null);
        using var b = bias.view(_edges, _cp);
        return (s.As(activations), scale * b);
    }
}

/// <summary>The ops of all edges leaving one state of a fused DARTS-style cell (<see cref="FusedDartsCell"/>).</summary>
internal sealed class FusedDartsSource : nn.Module
{
    private readonly DartsSource _s;
    private readonly long _c, _cp;
    private readonly int _k;
    private readonly Dictionary<string, StackedConvOp> _convs = [];
    private readonly Dictionary<string, StackedPoolBn> _pools = [];
    private readonly FactorizedReduce?[] _reduce;

    public FusedDartsSource(DartsSource source, long channels, int k, OpConfig cfg) : base(nameof(FusedDartsSource))
    {
        _s = source; _c = channels; _k = k; _cp = channels / k;
        foreach (var f in DartsCellLayout.ConvFamilies.Where(f => source.EdgesWith(f.Op).Length > 0))
            register_module(f.Op, _convs[f.Op] = new StackedConvOp(f, source.EdgesWith(f.Op).Length, _cp, source.Stride, cfg));
        foreach (var op in DartsCellLayout.PoolOps.Where(op => source.EdgesWith(op).Length > 0))
            register_module(op, _pools[op] = new StackedPoolBn(op == OpRegistry.MaxPool3, source.EdgesWith(op).Length, _cp, source.Stride, cfg));
        _reduce = new FactorizedReduce?[source.Edges.Length];
        if (source.Stride != 1)
            foreach (int t in source.EdgesWith(OpRegistry.Skip))
                register_module($"{OpRegistry.Skip}_{t}", _reduce[t] = new FactorizedReduce(_cp, _cp, cfg));
    }

    public Outputs Forward(Tensor x, DartsMixing.Source mix)
    {
        var o = new Outputs(_s.Edges.Length);
        using var xp = _k > 1 ? x.narrow(1, 0, _cp) : x.alias();
        if (_convs.Count > 0)
        {
            using var relu = functional.relu(xp);
            var repeated = new Dictionary<string, Tensor>();
            foreach (var (op, conv) in _convs)
            {
                if (!mix.ConvScale.TryGetValue(op, out var scale)) continue; // weight 0 on every edge (DartsMixing's skipZero)
                string key = string.Join(",", _s.EdgesWith(op));
                if (!repeated.TryGetValue(key, out var r))
                    repeated[key] = r = conv.Edges == 1 ? relu.alias() : relu.repeat(1, conv.Edges, 1, 1);
                o.Convs[op] = conv.Forward(r, scale);
            }
            foreach (var r in repeated.Values) r.Dispose();
        }
        foreach (var (op, pool) in _pools)
        {
            if (!mix.PoolScale.TryGetValue(op, out var weight)) continue;
            var (scale, bias) = pool.Rows(weight, xp.dtype);
            o.Pools[op] = new PoolOutput(pool.Normalised(xp), scale, bias);
        }
        for (int t = 0; t < _reduce.Length; t++) o.Reduce[t] = _reduce[t]?.call(xp);
        if (_s.Stride != 1 && _k > 1)
        {
            using var rest = x.narrow(1, _cp, _c - _cp);
            o.Bypass = functional.max_pool2d(rest, 2, 2);
        }
        return o;
    }

    public sealed record PoolOutput(Tensor Normalised, Tensor Scale, Tensor? Bias);

    /// <summary>What a state's edges computed, for the nodes they feed.</summary>
    public sealed class Outputs(int edges) : IDisposable
    {
        /// <summary>Per convolution op: the stacked outputs of its edges, op weights applied.</summary>
        public Dictionary<string, Tensor> Convs { get; } = [];
        public Dictionary<string, PoolOutput> Pools { get; } = [];
        /// <summary>Stride 2: per position, its FactorizedReduce skip op's output (unweighted) or null.</summary>
        public Tensor?[] Reduce { get; } = new Tensor?[edges];
        /// <summary>Stride 2 with partial channels: the bypass channels, 2x2 max pooled.</summary>
        public Tensor? Bypass { get; set; }

        public void Dispose()
        {
            foreach (var t in Convs.Values) t.Dispose();
            foreach (var p in Pools.Values) { p.Normalised.Dispose(); p.Scale.Dispose(); p.Bias?.Dispose(); }
            foreach (var t in Reduce) t?.Dispose();
            Bypass?.Dispose();
        }
    }
}
