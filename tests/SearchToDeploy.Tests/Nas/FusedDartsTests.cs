using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Nas.Supernets.Darts;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

/// <summary>The fused DARTS-style supernet computes the same function and gradients as the edge-by-edge reference (in float64, where rounding cannot hide a difference).</summary>
public sealed class FusedDartsTests
{
    /// <summary>
    /// The reference parameters or buffers a fused one stacks (cells.{c}.state{j}.{op}.{field}), in stacking order;
    /// the first only where every edge holds the same (a pooling op's BN statistics). Null for names both share.
    /// </summary>
    private static (string[] Keys, bool Stacked)? ReferenceOf(string name, SupernetConfig cfg)
    {
        var parts = name.Split('.');
        if (parts.Length < 4 || !parts[2].StartsWith("state")) return null;
        string cell = $"{parts[0]}.{parts[1]}";
        int c = int.Parse(parts[1]);
        bool reduction = c == cfg.Layers / 3 || c == 2 * cfg.Layers / 3;
        var source = DartsCellLayout.Of(cfg.Space, reduction, cfg.Steps).Sources[int.Parse(parts[2]["state".Length..])];
        string op = parts[3], field = string.Join('.', parts.Skip(4));
        string Key(int t, string inner) => $"{cell}.edges.{source.Edges[t]}.ops.{source.ColumnOf(op.StartsWith(OpRegistry.Skip) ? OpRegistry.Skip : op, t)}.{inner}";
        if (op.StartsWith(OpRegistry.Skip + "_")) return ([Key(int.Parse(op[(OpRegistry.Skip.Length + 1)..]), field)], true);
        var edges = source.EdgesWith(op);
        if (DartsCellLayout.PoolOps.Contains(op))
            return field.StartsWith("bn.") ? ([Key(edges[0], field)], false) : ([.. edges.Select(t => Key(t, "bn." + field))], true);
        bool separable = DartsCellLayout.ConvFamilies.Single(f => f.Op == op).Separable;
        string inner = (field[..3], separable) switch
        {
            ("dw1", true) => "first.depthwise.weight",
            ("pw1", true) => "first.pointwise.weight",
            ("bn1", true) => "first.bn" + field[3..],
            ("dw2", _) => "second.depthwise.weight",
            ("pw2", _) => "second.pointwise.weight",
            ("bn2", _) => "second.bn" + field[3..],
            ("dw1", false) => "depthwise.weight",
            ("pw1", false) => "pointwise.weight",
            ("bn1", false) => "bn" + field[3..],
            _ => throw new InvalidOperationException(name),
        };
        return field.EndsWith("num_batches_tracked") ? ([Key(edges[0], inner)], false) : ([.. edges.Select(t => Key(t, inner))], true);
    }

    private static Tensor Gather(IReadOnlyDictionary<string, Tensor> source, (string[] Keys, bool Stacked) map) =>
        map.Stacked ? torch.cat(map.Keys.Select(k => source[k]).ToArray(), 0) : source[map.Keys[0]];

    [Theory]
    [InlineData("darts", "darts")]
    [InlineData("darts", "pc-darts")]
    [InlineData("darts", "rf-darts")]
    [InlineData("darts", "rf-pcdarts")]
    [InlineData("s1", "rf-pcdarts")]
    [InlineData("s3", "darts")]
    public void Fused_supernet_matches_the_reference_in_outputs_gradients_and_running_statistics(string space, string methodName)
    {
        var method = SearchMethod.Parse(methodName);
        using var scope = torch.NewDisposeScope();
        bool pc = method.PartialChannels;
        var cfg = new SupernetConfig(SearchSpaces.Get(space), 10, Channels: 8, Layers: 3, PartialK: pc ? 4 : 1, EdgeNormalization: pc, Affine: method.RandomFeatures);
        torch.manual_seed(3);
        var reference = SupernetFactory.Create(cfg with { Fused = false });
        var fused = SupernetFactory.Create(cfg);
        Assert.Contains(fused.named_modules(), m => m.module is FusedDartsCell);
        Assert.DoesNotContain(reference.named_modules(), m => m.module is FusedDartsCell);
        var refState = reference.state_dict();
        using (torch.no_grad())
        {
            foreach (var (name, target) in fused.state_dict())
                target.copy_(ReferenceOf(name, cfg) is { } map ? Gather(refState, map) : refState[name]);
            // α and β far from uniform and BN affine parameters away from 1 and 0, so that every term matters.
            foreach (var (a, b) in reference.ArchParameters.Zip(fused.ArchParameters))
            {
                a.copy_(torch.randn(a.shape, dtype: a.dtype));
                b.copy_(a);
            }
            var refParams = reference.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
            foreach (var (name, p) in reference.named_parameters().Where(p => p.parameter.dim() == 1 && p.name.Contains(".bn.")))
                p.add_(torch.randn(p.shape, dtype: p.dtype) * 0.3);
            foreach (var (name, target) in fused.named_parameters().Where(p => p.parameter.dim() == 1))
                target.copy_(ReferenceOf(name, cfg) is { } map ? Gather(refParams, map) : refParams[name]);
        }
        Assert.Equal(reference.parameters().Sum(p => p.numel()), fused.parameters().Sum(p => p.numel()));

        reference.to(ScalarType.Float64); fused.to(ScalarType.Float64);
        var x = torch.randn(4, 3, 16, 16, dtype: ScalarType.Float64);
        var y = torch.randint(0, 10, [4]);
        var lossRef = nn.functional.cross_entropy(reference.call(x), y);
        var lossFused = nn.functional.cross_entropy(fused.call(x), y);
        Assert.Equal(lossRef.item<double>(), lossFused.item<double>(), 10);

        lossRef.backward();
        lossFused.backward();
        foreach (var (a, b) in reference.ArchParameters.Zip(fused.ArchParameters))
            AssertClose(a.grad!, b.grad!, "architecture gradient");
        var refGrads = reference.named_parameters().Where(p => p.parameter.grad is not null).ToDictionary(p => p.name, p => p.parameter.grad!);
        var arch = fused.ArchParameters.ToHashSet(ReferenceEqualityComparer.Instance);
        int compared = 0;
        foreach (var (name, p) in fused.named_parameters().Where(p => p.parameter.requires_grad && !arch.Contains(p.parameter)))
        {
            AssertClose(ReferenceOf(name, cfg) is { } map ? Gather(refGrads, map) : refGrads[name], p.grad!, name);
            compared++;
        }
        Assert.True(compared > 10);

        // Running statistics moved identically, so evaluation agrees too.
        var refBuffers = reference.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, buffer) in fused.named_buffers())
            AssertClose(ReferenceOf(name, cfg) is { } map ? Gather(refBuffers, map) : refBuffers[name], buffer, name);
        reference.eval(); fused.eval();
        using (torch.no_grad())
            AssertClose(reference.call(x), fused.call(x), "evaluation logits");
        Assert.Equal(reference.Derive().Text, fused.Derive().Text);
    }

    [Fact]
    public void Spaces_with_the_noise_op_search_edge_by_edge()
    {
        Assert.False(DartsCellLayout.Supports(SearchSpaces.S4));
        Assert.All(new[] { SearchSpaces.Darts, SearchSpaces.S1, SearchSpaces.S2, SearchSpaces.S3 }, s => Assert.True(DartsCellLayout.Supports(s)));
        using var net = SupernetFactory.Create(new SupernetConfig(SearchSpaces.S4, 10, Channels: 8, Layers: 3));
        Assert.DoesNotContain(net.named_modules(), m => m.module is FusedDartsCell);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double diff = (expected.to(ScalarType.Float64) - actual.to(ScalarType.Float64)).abs().max().item<double>();
        double scale = Math.Max(1, expected.abs().max().to(ScalarType.Float64).item<double>());
        Assert.True(diff < 1e-9 * scale, $"{what} differs by {diff} (largest {scale})");
    }
}
