using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

/// <summary>Parallel steps: the gradients are the alternating steps' gradients taken at the same (w, α), and only the
/// weight side touches the supernet's BN running statistics.</summary>
public sealed class ParallelStepsTests
{
    [Theory]
    [InlineData("nas-bench-201", "rf-pcdarts")]
    [InlineData("nas-bench-201", "darts")]
    [InlineData("darts", "pc-darts")]
    public void Gradients_equal_those_of_separate_passes_at_the_same_parameters(string space, string methodName)
    {
        var method = SearchMethod.Parse(methodName);
        int threads = torch.get_num_threads();
        try
        {
            torch.set_num_threads(1);
            using var scope = torch.NewDisposeScope();
            bool pc = method.PartialChannels;
            var cfg = new SupernetConfig(SearchSpaces.Get(space), 10, Channels: 8, Layers: space == "darts" ? 3 : 1,
                PartialK: pc ? 2 : 1, EdgeNormalization: pc, Affine: method.RandomFeatures);
            torch.manual_seed(5);
            using var net = SupernetFactory.Create(cfg);
            if (method.RandomFeatures) RandomFeatures.Apply(net, FrozenInit.KaimingNormal, trainClassifier: true);
            using (torch.no_grad()) foreach (var a in net.ArchParameters) a.copy_(torch.randn_like(a));
            net.train();
            var weights = net.WeightParameters;
            var (xt, yt) = (torch.randn(6, 3, 16, 16), torch.randint(0, 10, [6]));
            var (xa, ya) = (torch.randn(6, 3, 16, 16), torch.randint(0, 10, [6]));
            var start = Snapshot(net);

            // Reference: the architecture gradient, then (from the same parameters and statistics) the weight gradient.
            Backward(net, xa, ya, net.ArchParameters);
            var archGrads = net.ArchParameters.Select(a => a.grad!.clone()).ToList();
            Restore(net, start);
            Backward(net, xt, yt, weights);
            var weightGrads = weights.Select(w => w.grad!.clone()).ToList();
            var statsAfterWeightPass = net.buffers().Select(b => b.clone()).ToList();

            Restore(net, start);
            foreach (var p in net.parameters()) { using var g = p.grad; g?.zero_(); }
            using var parallel = new ParallelSteps(net, threadsPerSide: 1);
            var (archLoss, _) = parallel.Run(xa, ya, () => { Backward(net, xt, yt, weights); return 0; });

            Assert.True(double.IsFinite(archLoss));
            for (int i = 0; i < archGrads.Count; i++)
                Assert.True(net.ArchParameters[i].grad!.allclose(archGrads[i], rtol: 1e-5, atol: 1e-7), $"α gradient {i} differs");
            for (int i = 0; i < weightGrads.Count; i++)
                Assert.True(weights[i].grad!.allclose(weightGrads[i], rtol: 1e-5, atol: 1e-7), $"weight gradient {i} differs");
            var stats = net.buffers().ToList();
            for (int i = 0; i < stats.Count; i++)
                Assert.True(stats[i].eq(statsAfterWeightPass[i]).all().item<bool>(), "the architecture side changed the supernet's running statistics");
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }

    [Fact]
    public void Parallel_steps_refuse_second_order_and_drop_path()
    {
        var o = SearchRunTests.Tiny() with { ParallelSteps = true };
        Assert.Contains("first-order", Assert.Throws<InputException>(() => (o with { Unrolled = true }).Validate()).Message);
        Assert.Contains("--drop-path 0", Assert.Throws<InputException>(() => (o with { DropPath = 0.2 }).Validate()).Message);
    }

    private static void Backward(Supernet net, Tensor x, Tensor y, IReadOnlyList<Parameter> inputs)
    {
        using var logits = net.call(x);
        using var loss = nn.functional.cross_entropy(logits, y);
        torch.autograd.backward([loss], inputs: [.. inputs]);
    }

    private static List<Tensor> Snapshot(Supernet net) => [.. net.parameters().Concat<Tensor>(net.buffers()).Select(t => t.detach().clone())];

    private static void Restore(Supernet net, List<Tensor> saved)
    {
        using var _ = torch.no_grad();
        foreach (var (t, s) in net.parameters().Concat<Tensor>(net.buffers()).Zip(saved)) t.copy_(s);
    }
}
