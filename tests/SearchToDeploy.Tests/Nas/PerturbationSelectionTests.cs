using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Runs.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

/// <summary>Perturbation-based selection: the mixing it sets, the op it keeps, the cell it returns, the run's file.</summary>
public sealed class PerturbationSelectionTests
{
    private static DatasetRef Cifar => DatasetRef.Resolve("cifar10", TestPaths.DataRoot);

    [Theory]
    [InlineData("darts")]
    [InlineData("nas-bench-201")]
    public void Softmax_weights_and_unit_masks_mix_as_softmax_and_a_masked_edge_is_gone(string space)
    {
        using var session = TinySession(space, SearchMethod.RfPcDarts, 10, seed: 1);
        var net = session.Net;
        net.eval();
        using var x = torch.randn(4, 3, 32, 32);
        using var _ = torch.no_grad();
        using var expected = net.call(x);
        using var mixing = new PerturbedMixing();
        var weights = net.ArchWeights();
        foreach (var (cell, (alpha, beta)) in net.CellParameters)
            mixing.Set(alpha, beta, [.. weights[cell].Ops], [.. Enumerable.Repeat(1.0, weights[cell].Ops.Length)]);
        net.ArchMixing = mixing;
        using (var same = net.call(x)) Assert.True(same.allclose(expected, rtol: 1e-5, atol: 1e-6), "unit masks changed the logits");

        // Without edge 0 (its ops and, with partial channels, its bypass), the logits change. (The tiny DARTS supernet's
        // one cell is a reduction cell.)
        string used = net.CellParameters.Keys.Last();
        var (a0, b0) = net.CellParameters[used];
        var mask = Enumerable.Repeat(1.0, weights[used].Ops.Length).ToArray();
        mask[0] = 0;
        mixing.Set(a0, b0, [.. weights[used].Ops], mask);
        using (var without = net.call(x)) Assert.False(without.allclose(expected, rtol: 1e-4, atol: 1e-5), "a masked edge left the logits as they were");
        net.ArchMixing = ArchMixing.Softmax;
    }

    [Fact]
    public void Ops_at_weight_zero_on_every_edge_are_left_out_and_the_logits_stay_the_same()
    {
        using var session = TinySession("darts", SearchMethod.RfPcDarts, 10, seed: 1);
        var net = session.Net;
        net.train(); // batch statistics: an op that runs updates its BN's running statistics, one left out does not
        using var x = torch.randn(4, 3, 32, 32);
        using var _ = torch.no_grad();
        using var mixing = new PerturbedMixing();
        var weights = net.ArchWeights();
        string[] gone = [OpRegistry.Sep3, OpRegistry.MaxPool3];
        foreach (var (cell, (alpha, beta)) in net.CellParameters)
        {
            var edges = net.Config.Space.EdgesOf(cell == "reduce");
            // Two ops at 0 on every edge (left out), one at 0 on edge 0 only (still computed for the others).
            var rows = weights[cell].Ops.Select((row, e) => row.Select((w, k) =>
                gone.Contains(edges[e][k]) || e == 0 && edges[e][k] == OpRegistry.AvgPool3 ? 0.0 : w).ToArray()).ToArray();
            mixing.Set(alpha, beta, rows, [.. Enumerable.Repeat(1.0, rows.Length)]);
        }
        var stats = net.named_buffers().Where(b => b.name.Contains("running_mean")).ToList();
        Assert.Contains(stats, b => b.name.Contains(OpRegistry.Sep3));
        var before = stats.Select(b => b.buffer.clone()).ToList();

        net.ArchMixing = mixing;
        using var skipped = net.call(x);
        for (int i = 0; i < stats.Count; i++)
            Assert.Equal(gone.Any(stats[i].name.Contains), Same(stats[i].buffer, before[i]));

        net.ArchMixing = new Computed(mixing);
        using var computed = net.call(x);
        Assert.True(Same(skipped, computed), "leaving out the ops at weight 0 changed the logits");
        Assert.All(stats.Where(b => gone.Any(b.name.Contains)), b => Assert.False(Same(b.buffer, before[stats.IndexOf(b)])));
        net.ArchMixing = ArchMixing.Softmax;
        foreach (var t in before) t.Dispose();
    }

    /// <summary>A tiny supernet of the space, its parameters drawn from the seed, on one CPU thread.</summary>
    [Fact]
    public void Selection_on_a_space_with_noise_measures_the_same_losses_every_time()
    {
        // S4's noise op draws random numbers in every forward pass: each measurement draws the same ones.
        using var session = TinySession("s4", SearchMethod.Darts, 4, seed: 3);
        var batches = Enumerable.Range(0, 2).Select(i => Patterns(8, 200 + i)).ToList();
        List<double> first = [], second = [];
        var a = PerturbationSelection.Select(session.Net, batches, seed: 0, TextWriter.Null, measured: first.Add);
        using (torch.randn(10)) { } // the global generator moved on, as between an interrupted selection and its resume
        var b = PerturbationSelection.Select(session.Net, batches, seed: 0, TextWriter.Null, measured: second.Add);
        Assert.Equal(first, second);
        Assert.Equal(a, b);
    }

    private static SearchSession TinySession(string space, SearchMethod method, int classes, int seed)
    {
        var o = SearchRunTests.Tiny(space, method);
        torch.manual_seed(seed);
        return SearchSession.Create(o, o.SupernetConfig(classes), new Compute(torch.CPU, 1));
    }

    /// <summary>Equal to the bit (signed zeros aside).</summary>
    private static bool Same(Tensor a, Tensor b)
    {
        using var eq = a.eq(b);
        using var all = eq.all();
        return all.ToBoolean();
    }

    /// <summary>The same weights as <paramref name="inner"/>, every op computed.</summary>
    private sealed class Computed(ArchMixing inner) : ArchMixing
    {
        public override Tensor Weights(Tensor alpha, bool training) => inner.Weights(alpha, training);
        public override Tensor EdgeWeights(Tensor beta, Tensor nodeNormalised) => inner.EdgeWeights(beta, nodeNormalised);
    }

    [Fact]
    public void The_op_a_trained_supernet_relies_on_is_kept_and_the_supernet_is_left_as_it_was()
    {
        // A NAS-Bench-201 supernet whose α gives nor_conv_3x3 almost all the weight on every edge, its weights trained
        // on stripes vs checkerboards: removing that op costs the loss; removing any other changes nearly nothing.
        using var session = TinySession("nas-bench-201", SearchMethod.Darts, 4, seed: 3);
        var net = session.Net;
        var space = net.Config.Space;
        int conv = space.Normal[0].ToList().IndexOf("nor_conv_3x3");
        using (torch.no_grad())
        {
            var alpha = net.CellParameters["normal"].Alpha;
            alpha.zero_();
            alpha.select(1, conv).fill_(8);
        }
        var batches = Enumerable.Range(0, 3).Select(i => Patterns(32, 100 + i)).ToList();
        var sgd = torch.optim.SGD(net.WeightParameters, 0.05, momentum: 0.9);
        net.train();
        for (int step = 0; step < 20; step++)
        {
            var (xb, yb) = batches[step % batches.Count];
            sgd.zero_grad();
            using var loss = torch.nn.functional.cross_entropy(net.call(xb), yb);
            loss.backward();
            sgd.step();
        }
        var buffers = net.named_buffers().Select(b => (b.name, b.buffer.clone())).ToList();
        var log = new StringWriter();
        var arch = PerturbationSelection.Select(net, batches, seed: 0, log);
        Assert.Equal(Enumerable.Repeat("nor_conv_3x3", 6), arch.Nb201!.EdgeOps);
        Assert.Same(ArchMixing.Softmax, net.ArchMixing);
        Assert.True(net.training);
        foreach (var (name, before) in buffers)
            Assert.True(before.allclose(net.named_buffers().Single(b => b.name == name).buffer, 0, 0), $"{name} was not restored");
        Assert.Contains("edge 1<-0: nor_conv_3x3; loss without each op: nor_conv_3x3", log.ToString());
        Assert.Equal(arch, PerturbationSelection.Select(net, batches, seed: 0, TextWriter.Null));
    }

    [Fact]
    public void A_search_selects_by_perturbation_and_a_finished_run_selects_again_by_alpha()
    {
        using var dir = new TempDir();
        var o = SearchRunTests.Tiny("s1", SearchMethod.RfPcDarts) with { Epochs = 1, Selection = CellSelection.Perturbation, SelectionImages = 16, MaxImagesPerPart = 32, ValidImages = 16 };
        var log = new StringWriter();
        var arch = new SearchRunner(o, Cifar, dir.Path, log, TestCompute.Cpu).Run(resume: false);
        var g = arch.Cell!;
        foreach (var cell in new[] { g.Normal, g.Reduce })
        {
            Assert.Equal(8, cell.Count);
            Assert.DoesNotContain(cell, e => e.Op == OpRegistry.None);
            for (int node = 0; node < 4; node++) Assert.NotEqual(cell[2 * node].Input, cell[2 * node + 1].Input);
        }
        Assert.Contains("perturbation selection: 16 held-out images", log.ToString());
        Assert.Contains("\"selection\": \"perturbation\"", File.ReadAllText(dir["genotype.json"]));
        Assert.Equal(arch.Text, GenotypeFile.Load(dir["genotype.json"]).Text);
        // The folder's drawings are of the selected cell, not of α's.
        using (var fresh = new TempDir())
        {
            SearchToDeploy.Reporting.CellDrawings.Draw(fresh.Path, arch);
            var drawn = SearchToDeploy.Reporting.CellDrawings.SvgFiles.Where(f => File.Exists(fresh[f])).ToList();
            Assert.Equal(2, drawn.Count); // the normal and the reduction cell
            foreach (var svg in drawn) Assert.Equal(File.ReadAllText(fresh[svg]), File.ReadAllText(dir[svg]));
        }

        var byAlpha = new SearchRunner(o with { Selection = CellSelection.Alpha }, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: true);
        Assert.Contains($"(by alpha: {byAlpha.Text})", log.ToString());
        Assert.DoesNotContain("\"selection\"", File.ReadAllText(dir["genotype.json"]));
        Assert.Throws<InputException>(() => (o with { Selection = "largest" }).Validate());
    }

    [Fact]
    public void An_interrupted_selection_resumes_from_its_journal_to_the_same_cell()
    {
        var o = SearchRunTests.Tiny("s1", SearchMethod.RfPcDarts) with { Epochs = 1, Selection = CellSelection.Perturbation, SelectionImages = 16, MaxImagesPerPart = 32, ValidImages = 16 };
        using var whole = new TempDir();
        var arch = new SearchRunner(o, Cifar, whole.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        var losses = File.ReadAllLines(whole[SearchRunFolder.SelectionJournal]).Skip(1).ToList();

        // Killed during the selection (after its third normal-cell decision), then resumed: the losses measured before are not
        // measured again, and the cell and every loss are the uninterrupted run's.
        using var cut = new TempDir();
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new SearchRunner(o, Cifar, cut.Path, new CancelOnLine("perturbation selection: normal", cts, count: 3), TestCompute.Cpu).Run(resume: false, cts.Token));
        int before = File.ReadAllLines(cut[SearchRunFolder.SelectionJournal]).Length - 1;
        Assert.InRange(before, 10, losses.Count - 10);
        var log = new StringWriter();
        var resumed = new SearchRunner(o, Cifar, cut.Path, log, TestCompute.Cpu).Run(resume: true);
        Assert.Equal(arch, resumed);
        Assert.Contains($"perturbation selection: {before} of {losses.Count} evaluations from an earlier run, {losses.Count - before} to measure", log.ToString());
        Assert.Equal(losses, File.ReadAllLines(cut[SearchRunFolder.SelectionJournal]).Skip(1));

        // A finished selection chosen again (here after alpha) measures nothing.
        new SearchRunner(o with { Selection = CellSelection.Alpha }, Cifar, cut.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: true);
        log = new StringWriter();
        Assert.Equal(arch, new SearchRunner(o, Cifar, cut.Path, log, TestCompute.Cpu).Run(resume: true));
        Assert.Contains($"{losses.Count} of {losses.Count} evaluations from an earlier run, 0 to measure", log.ToString());
    }

    /// <summary>Four classes of 16x16 textures with noise: horizontal stripes, vertical stripes, checkerboard, flat.</summary>
    private static (Tensor X, Tensor Y) Patterns(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n * 3 * 16 * 16];
        var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            int c = i % 4;
            y[i] = c;
            for (int ch = 0; ch < 3; ch++)
                for (int r = 0; r < 16; r++)
                    for (int q = 0; q < 16; q++)
                    {
                        float v = c switch { 0 => r % 2, 1 => q % 2, 2 => (r + q) % 2, _ => 0.5f };
                        x[((i * 3 + ch) * 16 + r) * 16 + q] = v - 0.5f + 0.3f * (float)(rng.NextDouble() - 0.5);
                    }
        }
        return (torch.tensor(x, [n, 3, 16, 16]), torch.tensor(y, [n]));
    }
}
