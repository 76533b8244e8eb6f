using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Runs.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

/// <summary>
/// The order of a search step's two updates: DARTS's α step then weight step, or (--weights-first, xautodl's
/// NAS-Bench-201 DARTS-V1 and GDAS) the weight step, then the α step at the weights just updated.
/// </summary>
public sealed class StepOrderTests
{
    [Fact]
    public void Weights_first_takes_the_alpha_step_at_the_weights_just_updated()
    {
        using var scope = torch.NewDisposeScope();
        var o = SearchRunTests.Tiny() with { Threads = 1 };
        var (xt, yt) = (torch.rand(8, 3, 32, 32, generator: new Generator(1)), torch.randint(0, 10, [8], generator: new Generator(2)));
        var (xa, ya) = (torch.rand(8, 3, 32, 32, generator: new Generator(3)), torch.randint(0, 10, [8], generator: new Generator(4)));
        SearchSession Session(bool weightsFirst)
        {
            torch.manual_seed(0);
            return SearchSession.Create(o with { WeightsFirst = weightsFirst }, o.SupernetConfig(10), new Compute(torch.CPU, 1));
        }
        using var first = Session(weightsFirst: true);
        using var weightsOnly = Session(weightsFirst: true);
        using var alphaFirst = Session(weightsFirst: false);
        var alpha0 = first.Net.ArchParameters.Select(a => a.detach().clone()).ToList();

        var r = first.Strategy.Gradients(xt, yt, xa, ya, 0.1, archTrains: true);
        first.Strategy.UpdateWeights(0.1); // already taken: must not step again
        weightsOnly.Strategy.Gradients(xt, yt, xa, ya, 0.1, archTrains: false);
        weightsOnly.Strategy.UpdateWeights(0.1);
        alphaFirst.Strategy.Gradients(xt, yt, xa, ya, 0.1, archTrains: true);
        alphaFirst.Strategy.UpdateWeights(0.1);

        // One weight step, taken at α as it was: the weights of a step that left α alone.
        foreach (var (a, b) in first.Net.WeightParameters.Zip(weightsOnly.Net.WeightParameters))
            Assert.True(a.allclose(b, rtol: 0, atol: 0), "the weights differ from one weight step at the old α");
        Assert.Contains(first.Net.WeightParameters.Zip(alphaFirst.Net.WeightParameters), p => !p.First.allclose(p.Second, rtol: 0, atol: 0));
        // The α step's loss is the architecture batch's at the updated weights and the old α.
        using (torch.no_grad())
        {
            using var logits = weightsOnly.Net.call(xa);
            using var loss = nn.functional.cross_entropy(logits, ya);
            Assert.Equal(loss.item<float>(), r.ArchLoss, 4);
        }
        Assert.Contains(first.Net.ArchParameters.Zip(alpha0), p => !p.First.allclose(p.Second, rtol: 0, atol: 0));
        Assert.Contains(first.Net.ArchParameters.Zip(alphaFirst.Net.ArchParameters), p => !p.First.allclose(p.Second, rtol: 0, atol: 0));
    }

    [Fact]
    public void The_paper_preset_takes_xautodls_order_on_nas_bench_201_and_parallel_steps_refuse_noise()
    {
        Assert.True(SearchPresets.Create("paper", "nas-bench-201", SearchMethod.RfPcDarts).WeightsFirst);
        Assert.True(SearchPresets.Create("paper", "nas-bench-201", SearchMethod.Gdas).WeightsFirst);
        // GDAS's paper preset follows xautodl in every space; the cpu and smoke presets keep DARTS's order for every method.
        Assert.True(SearchPresets.Create("paper", "darts", SearchMethod.Gdas).WeightsFirst);
        Assert.True(SearchPresets.Create("paper", "s2", SearchMethod.Gdas).WeightsFirst);
        Assert.False(SearchPresets.Create("cpu", "darts", SearchMethod.Gdas).WeightsFirst);
        Assert.False(SearchPresets.Create("cpu", "nas-bench-201", SearchMethod.Gdas).WeightsFirst);
        Assert.False(SearchPresets.Create("smoke", "darts", SearchMethod.Gdas).WeightsFirst);
        Assert.False(SearchPresets.Create("paper", "darts", SearchMethod.RfPcDarts).WeightsFirst);
        Assert.False(SearchPresets.Create("paper", "darts", SearchMethod.PcDarts).WeightsFirst);
        Assert.False(SearchPresets.Create("cpu", "nas-bench-201", SearchMethod.RfPcDarts).WeightsFirst);
        // Parallel steps take both gradients at once: the paper preset's order gives way rather than refuse them.
        (SearchRunTests.Tiny() with { ParallelSteps = true, WeightsFirst = true }).Validate();
        var s4 = SearchRunTests.Tiny("s4") with { ParallelSteps = true, DropPath = 0 };
        Assert.Contains("noise", Assert.Throws<InputException>(() => s4.Validate()).Message);
    }
}
