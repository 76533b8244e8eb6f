using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Runs.Search;
using TorchSharp;

namespace SearchToDeploy.Tests.Nas;

/// <summary>GDAS through the strategy seam: hard Gumbel-softmax mixing with a soft gradient, a seeded search, a valid cell.</summary>
public sealed class GdasTests
{
    [Fact]
    public void Training_passes_mix_with_one_hot_samples_whose_gradient_reaches_alpha()
    {
        var o = SearchRunTests.Tiny(method: SearchMethod.Gdas);
        torch.manual_seed(0);
        using var session = SearchSession.Create(o, o.SupernetConfig(10), new Compute(torch.CPU, 1));
        var net = session.Net;
        Assert.NotSame(SearchToDeploy.Nas.Supernets.ArchMixing.Softmax, net.ArchMixing);
        session.Strategy.BeginEpoch(0, 2);
        var alpha = net.ArchParameters[0];
        using var w = net.ArchMixing.Weights(alpha, training: true);
        var rows = w.detach().data<float>().ToArray();
        int ops = (int)alpha.shape[1];
        for (int e = 0; e < alpha.shape[0]; e++)
        {
            var row = rows.AsSpan(e * ops, ops).ToArray();
            Assert.Equal(1, row.Count(v => v == 1f));
            Assert.Equal(ops - 1, row.Count(v => v == 0f));
        }
        using var loss = (w * torch.arange(ops, dtype: torch.ScalarType.Float32)).sum();
        var grad = torch.autograd.grad([loss], [alpha])[0];
        Assert.True(grad.abs().sum().item<float>() > 0, "no gradient reached α through the hard sample");
        // Evaluation mixes with softmax(α): the same weights derivation reads.
        using var soft = net.ArchMixing.Weights(alpha, training: false);
        using var softmax = alpha.softmax(-1);
        Assert.True(soft.allclose(softmax, rtol: 0, atol: 0));
        // Second order and parallel steps are DARTS's, not GDAS's.
        Assert.Throws<InputException>(() => SearchSession.Create(o with { Unrolled = true }, o.SupernetConfig(10), new Compute(torch.CPU, 1)));
    }

    [Fact]
    public void A_gdas_search_is_seeded_and_derives_a_benchmark_cell()
    {
        var cifar = DatasetRef.Resolve("cifar10", TestPaths.DataRoot);
        using var a = new TempDir();
        using var b = new TempDir();
        var o = SearchRunTests.Tiny(method: SearchMethod.Gdas);
        var first = new SearchRunner(o, cifar, a.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        var second = new SearchRunner(o, cifar, b.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        Assert.Equal(first.Text, second.Text);
        Assert.Equal(File.ReadAllText(a["alphas.csv"]), File.ReadAllText(b["alphas.csv"]));
        Assert.Equal(first.Text, Nb201Arch.Parse(first.Text).ToString()); // a NAS-Bench-201 cell, written as the benchmark writes it
        Assert.Contains("\"Method\": \"gdas\"", File.ReadAllText(a["options.json"]));
        Assert.Equal(250, SearchPresets.Create("paper", "nas-bench-201", SearchMethod.Gdas).Epochs);
    }
}
