using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Reporting;
using SearchToDeploy.Runs.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

/// <summary>Tiny real searches on CIFAR-10 (64 + 64 images): run folder, resume, divergence.</summary>
public sealed class SearchRunTests
{
    internal static SearchOptions Tiny(string space = "nas-bench-201", SearchMethod? method = null) =>
        SearchPresets.Create("smoke", space, method ?? SearchMethod.RfPcDarts) with
        {
            // DARTS-style supernets need 3 cells (two reduce); NAS-Bench-201's 1 cell per stage is 3 cells.
            Channels = 8, Layers = SearchSpaces.Get(space).Kind == SpaceKind.Nb201 ? 1 : 3, Epochs = 2, BatchSize = 16, MaxImagesPerPart = 64, ValidImages = 32, Workers = 0,
            ArchLearningRate = 3e-3, Nb201Table = TestPaths.Nb201Table, Threads = 0,
        };

    private static DatasetRef Cifar => DatasetRef.Resolve("cifar10", TestPaths.DataRoot);

    [Fact]
    public void Search_writes_a_complete_run_folder()
    {
        using var dir = new TempDir();
        var log = new StringWriter();
        var arch = new SearchRunner(Tiny(), Cifar, dir.Path, log, TestCompute.Cpu).Run(resume: false);
        Assert.Equal(arch.Text, GenotypeFile.Load(dir["genotype.json"]).Text);
        foreach (var f in new[] { "checkpoint.s2d", "options.json", "metrics.csv", "alphas.csv", "alphas_normal.png", "curves.png", "cell.dot", "cell.svg", "summary.json", TensorBoardEvents.FileName })
            Assert.True(File.Exists(dir[f]), $"{f} missing");
        Assert.Equal(3, File.ReadAllLines(dir["metrics.csv"]).Length);
        var scalars = TensorBoardEvents.Read(dir[TensorBoardEvents.FileName]);
        Assert.Equal(2, scalars.Count(s => s.Tag == "train/loss"));
        Assert.Contains(scalars, s => s.Tag == "nb201/cifar10_test");
        Assert.Contains("NAS-Bench-201 accuracies of this cell", log.ToString());
        Assert.Contains("\"nb201_index\"", File.ReadAllText(dir["summary.json"]));
        Assert.StartsWith("<svg", File.ReadAllText(dir["cell.svg"]));
        Assert.Contains("epoch 1: weakest choice edge ", log.ToString());
        Assert.Contains(",weakest_lead_pct,narrow_choices,same_cell_epochs,genotype", File.ReadAllLines(dir["metrics.csv"])[0]);
        Assert.Contains("\"count\": 6", File.ReadAllText(dir["summary.json"]));      // one op choice per NAS-Bench-201 edge
        Assert.Contains(scalars, s => s.Tag == "arch/weakest_lead_percent");
    }

    [Fact]
    public void Firmness_counts_the_epochs_a_cell_has_stayed_and_its_narrow_choices()
    {
        var o = Tiny();
        EpochRecord Epoch(int i, string genotype, double conv3) => new()
        {
            Epoch = i, Genotype = genotype,
            Weights = new() { ["normal"] = new CellWeights([.. Enumerable.Range(0, 6).Select(e => new[] { 0.1, 0.1, 0.1, 0.1, 0.1 }.Select((w, k) => k == 3 ? conv3 + 0.01 * e : w).ToArray())], null) },
        };
        var history = new[] { Epoch(0, "a", 0.102), Epoch(1, "b", 0.3), Epoch(2, "b", 0.3), Epoch(3, "b", 0.3) };
        Assert.Equal([1, 1, 2, 3], history.Select((_, i) => Firmness.Of(o, history, i)!.SameCellEpochs));
        var first = Firmness.Of(o, history, 0)!;
        Assert.Equal((6, 1), (first.Choices, first.Narrow));                   // edge 0 leads by 0.002 / 0.102, 2%; edge 1 by 11%
        Assert.StartsWith("weakest choice edge 0->1: nor_conv_3x3 over none by 1.96%; 1 of 6 choices lead by under 5%", first.Describe());
        Assert.Equal(0, Firmness.Of(o, history, 3)!.Narrow);
    }

    [Theory]
    [InlineData(false, Precision.Float32)]
    [InlineData(true, Precision.Float32)]
    [InlineData(true, Precision.BFloat16)]
    public void Interrupted_and_resumed_search_equals_the_uninterrupted_run_bit_for_bit(bool parallelSteps, Precision precision)
    {
        using var full = new TempDir();
        using var split = new TempDir();
        var o = Tiny() with { ParallelSteps = parallelSteps, Precision = precision };
        new SearchRunner(o, Cifar, full.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);

        using (var cts = new CancellationTokenSource())
        {
            var first = new SearchRunner(o, Cifar, split.Path, TextWriter.Null, TestCompute.Cpu);
            first.EpochCompleted += _ => cts.Cancel();
            Assert.Throws<OperationCanceledException>(() => first.Run(resume: false, cts.Token));
        }
        Assert.Throws<InputException>(() => new SearchRunner(o, Cifar, split.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false));
        new SearchRunner(o with { Workers = 1 }, Cifar, split.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: true);

        var (headerA, a) = CheckpointFile.Load(full["checkpoint.s2d"]);
        var (headerB, b) = CheckpointFile.Load(split["checkpoint.s2d"]);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, t) in a)
            Assert.True(t.bytes.SequenceEqual(b[name].bytes), $"{name} differs after resume");
        Assert.Equal(File.ReadAllText(full["genotype.json"]).Split("\"provenance\"")[0], File.ReadAllText(split["genotype.json"]).Split("\"provenance\"")[0]);
        Assert.Equal(File.ReadAllLines(full["metrics.csv"]).Select(l => string.Join(',', l.Split(',').Where((_, i) => i is 0 or 2 or 3 or 5 or 6))),
            File.ReadAllLines(split["metrics.csv"]).Select(l => string.Join(',', l.Split(',').Where((_, i) => i is 0 or 2 or 3 or 5 or 6))));
    }

    [Fact]
    public void A_checkpoint_with_edge_by_edge_cells_resumes_with_them()
    {
        // DARTS-space searches from builds before the fused cell: their checkpoints hold per-edge parameters.
        using var full = new TempDir();
        using var split = new TempDir();
        var o = Tiny("darts", SearchMethod.RfPcDarts) with { MaxImagesPerPart = 32, ValidImages = 16 };
        new SearchRunner(o, Cifar, full.Path, TextWriter.Null, TestCompute.Cpu) { ReferenceCells = true }.Run(resume: false);
        using (var cts = new CancellationTokenSource())
        {
            var first = new SearchRunner(o, Cifar, split.Path, TextWriter.Null, TestCompute.Cpu) { ReferenceCells = true };
            first.EpochCompleted += _ => cts.Cancel();
            Assert.Throws<OperationCanceledException>(() => first.Run(resume: false, cts.Token));
        }
        var log = new StringWriter();
        new SearchRunner(o, Cifar, split.Path, log, TestCompute.Cpu).Run(resume: true);
        Assert.Contains("holds edge-by-edge cells", log.ToString());

        var (_, a) = CheckpointFile.Load(full["checkpoint.s2d"]);
        var (_, b) = CheckpointFile.Load(split["checkpoint.s2d"]);
        Assert.Contains(a.Keys, k => k.Contains(".edges."));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, t) in a)
            Assert.True(t.bytes.SequenceEqual(b[name].bytes), $"{name} differs after resume");
    }

    [Fact]
    public void Resume_with_other_settings_is_refused()
    {
        using var dir = new TempDir();
        var o = Tiny() with { Epochs = 1 };
        new SearchRunner(o, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        var e = Assert.Throws<InputException>(() => new SearchRunner(o with { LearningRate = 0.5 }, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: true));
        Assert.Contains(FormattableString.Invariant($"other settings (LearningRate: {o.LearningRate} -> 0.5)"), e.Message);

        // The same settings on the finished run: nothing to train; its summary and artifacts are rewritten from the history.
        foreach (var f in new[] { "summary.json", "metrics.csv", "curves.png" }) File.Delete(dir[f]);
        new SearchRunner(o, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: true);
        Assert.Equal(2, File.ReadAllLines(dir["metrics.csv"]).Length);
        Assert.True(File.Exists(dir["summary.json"]) && File.Exists(dir["curves.png"]));

        // A checkpoint in the file format whose header is not a search's is refused, naming the file.
        CheckpointFile.Save(dir["checkpoint.s2d"], "{}", new Dictionary<string, Tensor>());
        var wrong = Assert.Throws<InputException>(() => new SearchRunner(o, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: true));
        Assert.Contains($"{dir["checkpoint.s2d"]}: not a search checkpoint", wrong.Message);
    }

    [Fact]
    public void A_partial_benchmark_table_lacking_the_cell_does_not_stop_the_search()
    {
        // A table of one architecture: the searched cells are not in it, so there is no accuracy to log, and no error.
        using var dir = new TempDir();
        File.WriteAllLines(dir["partial.tsv"], File.ReadLines(TestPaths.Nb201Table).Take(2));
        var o = Tiny() with { Epochs = 1, Nb201Table = dir["partial.tsv"] };
        var arch = new SearchRunner(o, Cifar, dir["run"], TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        Assert.NotNull(arch.Nb201);
        Assert.True(File.Exists(dir["run/checkpoint.s2d"]));
        Assert.True(File.Exists(dir["run/genotype.json"]));
    }

    [Fact]
    public void A_search_diverging_before_its_first_checkpoint_says_so()
    {
        using var dir = new TempDir();
        var o = Tiny(method: SearchMethod.Darts) with { Epochs = 3, LearningRate = 1e9, GradClip = 0, ArchWarmupEpochs = 0 };
        var runner = new SearchRunner(o, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu);
        var e = Assert.Throws<DivergedException>(() => runner.Run(resume: false));
        Assert.False(File.Exists(dir["checkpoint.s2d"]));
        Assert.Contains("no checkpoint had been written yet", e.Message);
        Assert.Contains("Lower --lr", e.Message);
    }

    [Fact]
    public void A_diverging_search_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint()
    {
        // Gradients turn to NaN once the first epoch (and its checkpoint) is done.
        using var dir = new TempDir();
        var poison = new NaNGradientsAfterEpoch();
        var runner = new SearchRunner(Tiny(method: SearchMethod.Darts) with { Epochs = 3 }, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu) { Sync = poison };
        runner.EpochCompleted += _ => poison.On = true;
        var e = Assert.Throws<DivergedException>(() => runner.Run(resume: false));
        Assert.Contains("the last good checkpoint", e.Message);
        var (header, tensors) = CheckpointFile.Load(dir["checkpoint.s2d"]);
        Assert.NotEmpty(tensors);
        Assert.All(tensors.Values.Where(t => t.is_floating_point()), t => Assert.True(t.isfinite().all().item<bool>()));
    }

    [Fact]
    public void Parameters_that_turn_non_finite_on_an_epochs_last_step_are_never_checkpointed()
    {
        // Each step's loss is measured before its update, so it stays finite; the last update of epoch 0 writes NaN.
        using var dir = new TempDir();
        var o = Tiny(method: SearchMethod.Darts) with { Epochs = 1 };
        var count = new NaNGradientsAtCall();
        new SearchRunner(o, Cifar, dir["count"], TextWriter.Null, TestCompute.Cpu) { Sync = count }.Run(resume: false);
        var poison = new NaNGradientsAtCall { At = count.Calls };
        var e = Assert.Throws<DivergedException>(() => new SearchRunner(o with { Epochs = 2 }, Cifar, dir["run"], TextWriter.Null, TestCompute.Cpu) { Sync = poison }.Run(resume: false));
        Assert.Contains("after epoch 0: the supernet's parameters or architecture weights hold NaN or infinite values", e.Message);
        Assert.Contains("no checkpoint had been written yet", e.Message);
        Assert.False(File.Exists(dir["run/checkpoint.s2d"]));
    }

    [Fact]
    public void A_new_search_in_a_folder_whose_checkpoint_is_gone_does_not_write_over_its_cell()
    {
        using var dir = new TempDir();
        var o = Tiny() with { Epochs = 1 };
        new SearchRunner(o, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        File.Delete(dir["checkpoint.s2d"]);
        string cell = File.ReadAllText(dir["genotype.json"]);
        foreach (bool resume in new[] { false, true })
        {
            var e = Assert.Throws<InputException>(() => new SearchRunner(o with { Seed = 5 }, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume));
            Assert.Contains("holds a searched cell (genotype.json) but not checkpoint.s2d", e.Message);
        }
        Assert.Equal(cell, File.ReadAllText(dir["genotype.json"]));
    }

    [Fact]
    public void A_search_on_an_image_folder_resumes_after_its_data_moved()
    {
        using var dir = new TempDir();
        RealFormats.WriteImageFolder(dir["a/train"], ["x", "y"], 40, size: 32);
        var o = Tiny() with { Epochs = 1, Dataset = "imagefolder", DataPath = dir["a"], Nb201Table = null };
        new SearchRunner(o, DatasetRef.Resolve("imagefolder", TestPaths.DataRoot, dir["a"]), dir["run"], TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        Directory.Move(dir["a"], dir["b"]);
        var log = new StringWriter();
        new SearchRunner(o with { DataPath = dir["b"] }, DatasetRef.Resolve("imagefolder", TestPaths.DataRoot, dir["b"]), dir["run"], log, TestCompute.Cpu).Run(resume: true);
        Assert.Contains("resumed", log.ToString());
        Assert.Contains(dir["b"], File.ReadAllText(dir["run/options.json"]).Replace("\\/", "/"));
    }

    /// <summary>One process whose gradient exchange fills every gradient with NaN at its <see cref="At"/>-th call (1-based; 0: never), counting its calls.</summary>
    internal sealed class NaNGradientsAtCall : SearchToDeploy.Core.Distributed.IGradientSync
    {
        public int At { get; init; }
        public int Calls { get; private set; }
        public int Rank => 0;
        public int Size => 1;
        public void Average(IReadOnlyList<TorchSharp.Modules.Parameter> parameters)
        {
            if (++Calls != At) return;
            using var _ = torch.no_grad();
            foreach (var p in parameters)
                using (var g = p.grad) g?.fill_(double.NaN);
        }
    }

    /// <summary>One process whose gradient exchange fills every gradient with NaN once <see cref="On"/>.</summary>
    private sealed class NaNGradientsAfterEpoch : SearchToDeploy.Core.Distributed.IGradientSync
    {
        public bool On { get; set; }
        public int Rank => 0;
        public int Size => 1;
        public void Average(IReadOnlyList<TorchSharp.Modules.Parameter> parameters)
        {
            if (!On) return;
            using var _ = torch.no_grad();
            foreach (var p in parameters)
                using (var g = p.grad) g?.fill_(double.NaN);
        }
    }

    [Fact]
    public void Native_memory_and_live_tensors_do_not_grow_over_repeated_steps()
    {
        var o = Tiny();
        torch.manual_seed(1);
        using var net = SupernetFactory.Create(o.SupernetConfig(10));
        RandomFeatures.Apply(net, o.FrozenInit, false);
        var weights = net.WeightParameters;
        var sgd = new Sgd([new ParamGroup(weights, 0)], 0.9);
        var architect = new Architect(net, o.Architecture);
        var x = torch.randn(16, 3, 32, 32);
        var y = torch.randint(0, 10, [16]);
        void Step()
        {
            using var scope = torch.NewDisposeScope();
            architect.Step(x, y, x, y, 0.025, sgd, unrolled: false);
            Gradients.Zero(weights);
            torch.autograd.backward([nn.functional.cross_entropy(net.call(x), y)], inputs: [.. weights]);
            Gradients.ClipNorm(weights, 5);
            sgd.Step(0.025);
        }
        for (int i = 0; i < 5; i++) Step();
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        long rss = SearchToDeploy.Benchmarks.ProcessMemory.ResidentBytes();
        for (int i = 0; i < 30; i++) Step();
        Assert.Equal(live, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        long growth = SearchToDeploy.Benchmarks.ProcessMemory.ResidentBytes() - rss;
        Assert.True(growth < 64 << 20, $"resident memory grew by {growth / 1e6:0} MB over 30 steps");
    }
}
