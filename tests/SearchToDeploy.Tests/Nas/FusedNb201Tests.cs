using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Nas.Supernets.Nb201;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

/// <summary>The fused NAS-Bench-201 supernet computes the same function and gradients as the edge-by-edge reference (in float64, where rounding cannot hide a difference).</summary>
public sealed class FusedNb201Tests
{
    /// <summary>Copies a reference supernet's parameters and buffers into a fused one (stacking per source node).</summary>
    internal static void CopyReferenceIntoFused(Nb201Supernet reference, Nb201Supernet fused, SupernetConfig cfg)
    {
        var src = reference.state_dict();
        var dst = fused.state_dict();
        var ops = cfg.Space.Normal[0].ToList();
        int conv1 = ops.IndexOf(OpRegistry.Conv1), conv3 = ops.IndexOf(OpRegistry.Conv3);
        using var _ = torch.no_grad();
        foreach (var (name, target) in dst)
        {
            if (src.TryGetValue(name, out var same)) { target.copy_(same); continue; }
            // cells.{c}.node{j}.{conv3_weight|conv1_weight|bias|bn_weight|bn_bias|running_mean|running_var}
            var parts = name.Split('.');
            string cell = $"{parts[0]}.{parts[1]}";
            int j = int.Parse(parts[2]["node".Length..]);
            var edges = Enumerable.Range(j + 1, 3 - j).Select(i => Nb201Arch.EdgeIndex(i, j)).ToArray();
            string Op(int op, string field) => $"{cell}.edges.{{0}}.ops.{op}.{field}";
            IEnumerable<string> Keys(int op, string field) => edges.Select(e => string.Format(Op(op, field), e));
            var keys = parts[3] switch
            {
                "conv3_weight" => Keys(conv3, "conv.weight"),
                "conv1_weight" => Keys(conv1, "conv.weight"),
                "bias" => Keys(conv3, "conv.bias").Concat(Keys(conv1, "conv.bias")),
                "bn_weight" => Keys(conv3, "bn.weight").Concat(Keys(conv1, "bn.weight")),
                "bn_bias" => Keys(conv3, "bn.bias").Concat(Keys(conv1, "bn.bias")),
                "running_mean" => Keys(conv3, "bn.running_mean").Concat(Keys(conv1, "bn.running_mean")),
                "running_var" => Keys(conv3, "bn.running_var").Concat(Keys(conv1, "bn.running_var")),
                _ => throw new InvalidOperationException(name),
            };
            target.copy_(torch.cat(keys.Select(k => src[k]).ToArray(), 0));
        }
    }

    [Theory]
    [InlineData("darts")]
    [InlineData("pc-darts")]
    [InlineData("rf-darts")]
    [InlineData("rf-pcdarts")]
    public void Fused_supernet_matches_the_reference_in_outputs_gradients_and_running_statistics(string methodName)
    {
        var method = SearchMethod.Parse(methodName);
        using var scope = torch.NewDisposeScope();
        bool pc = method.PartialChannels;
        var cfg = new SupernetConfig(SearchSpaces.Nb201, 10, Channels: 16, Layers: 1, PartialK: pc ? 4 : 1, EdgeNormalization: pc, Affine: method.RandomFeatures);
        torch.manual_seed(3);
        var reference = (Nb201Supernet)SupernetFactory.Create(cfg with { Fused = false });
        var fused = (Nb201Supernet)SupernetFactory.Create(cfg);
        CopyReferenceIntoFused(reference, fused, cfg);
        // Make α and β far from uniform so every op's weight matters.
        using (torch.no_grad())
            foreach (var (a, b) in reference.ArchParameters.Zip(fused.ArchParameters))
            {
                a.copy_(torch.randn(a.shape, dtype: a.dtype));
                b.copy_(a);
            }

        reference.to(ScalarType.Float64); fused.to(ScalarType.Float64);
        var x = torch.randn(8, 3, 16, 16, dtype: ScalarType.Float64);
        var y = torch.randint(0, 10, [8]);
        var lossRef = nn.functional.cross_entropy(reference.call(x), y);
        var lossFused = nn.functional.cross_entropy(fused.call(x), y);
        Assert.Equal(lossRef.item<double>(), lossFused.item<double>(), 10);

        torch.autograd.backward([lossRef], inputs: [.. reference.ArchParameters]);
        torch.autograd.backward([lossFused], inputs: [.. fused.ArchParameters]);
        foreach (var (a, b) in reference.ArchParameters.Zip(fused.ArchParameters))
            Assert.True((a.grad! - b.grad!).abs().max().item<double>() < 1e-10, $"architecture gradients differ by {(a.grad! - b.grad!).abs().max().item<double>()} (max {a.grad!.abs().max().item<double>()}): {a.grad!.to(ScalarType.Float32).data<float>().ToArray().Take(8).Aggregate("", (s, v) => s + v + " ")} vs {b.grad!.to(ScalarType.Float32).data<float>().ToArray().Take(8).Aggregate("", (s, v) => s + v + " ")}");

        // Running statistics moved identically, so evaluation agrees too.
        reference.eval(); fused.eval();
        using (torch.no_grad())
        {
            var diff = (reference.call(x) - fused.call(x)).abs().max().item<double>();
            Assert.True(diff < 1e-9, $"evaluation logits differ by {diff}");
        }
        Assert.Equal(reference.Derive().Text, fused.Derive().Text);
    }

    [Fact]
    public void Drop_path_searches_edge_by_edge_and_a_fused_supernet_refuses_it()
    {
        var o = SearchToDeploy.Runs.Search.SearchPresets.Create("smoke", "nas-bench-201", SearchMethod.RfPcDarts);
        Assert.True(o.SupernetConfig(10).Fused);
        var cfg = (o with { DropPath = 0.2 }).SupernetConfig(10);
        Assert.False(cfg.Fused);

        torch.manual_seed(3);
        using var reference = SupernetFactory.Create(cfg);
        reference.DropPathProb = 0.5;
        reference.train();
        using var x = torch.randn(4, 3, 16, 16);
        using var a = reference.call(x);
        using var b = reference.call(x);
        Assert.False(a.bytes.SequenceEqual(b.bytes)); // masks differ between passes: drop-path acts

        using var fused = SupernetFactory.Create(cfg with { Fused = true });
        Assert.Contains("drop-path", Assert.Throws<InvalidOperationException>(() => fused.DropPathProb = 0.2).Message);
    }
    [Fact]
    public void Drop_path_in_search_drops_whole_edges_skip_connections_included()
    {
        // RobustDARTS's search cell masks each edge's weighted sum; an edge of skip_connect alone is dropped too.
        torch.manual_seed(4);
        using var edge = new MixedOp([OpRegistry.Skip], 2, 1, SpaceKind.DartsCell, new OpConfig(false), 1);
        edge.train();
        edge.DropPathProb = 0.5;
        using var x = torch.ones(64, 2, 3, 3);
        using var w = torch.ones(1);
        using var y = edge.DropEdge(edge.Forward(x, w));
        using var perImage = y.sum([1, 2, 3]);
        var sums = perImage.data<float>().ToArray();
        Assert.All(sums, v => Assert.True(v == 0 || Math.Abs(v - 36) < 1e-4, $"{v}")); // dropped, or kept and scaled by 1/(1-p)
        Assert.InRange(sums.Count(v => v == 0), 16, 48);
        edge.eval();
        using var kept = edge.DropEdge(edge.Forward(x, w));
        Assert.Equal(18f, kept.sum().item<float>() / 64, 4); // evaluation drops nothing
    }
}
