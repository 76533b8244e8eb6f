using System.Text.Json;
using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Transforms;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Reporting;
using SearchToDeploy.Runs.Training;
using SearchToDeploy.Tests.Nas;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Runs;

/// <summary>Schedules, losses, and tiny real retraining runs on CIFAR-10 and the ImageNet sample.</summary>
public sealed class TrainingTests
{
    [Fact]
    public void Schedules_give_the_published_learning_rates()
    {
        var cosine = new LrSchedule(ScheduleKind.Cosine, 0.025, 600);
        Assert.Equal(0.025, cosine.At(0), 12);
        Assert.Equal(0.0125, cosine.At(300), 12);
        Assert.Equal(0.025 * (1 + Math.Cos(Math.PI * 450 / 600)) / 2, cosine.At(450), 12);
        var step = new LrSchedule(ScheduleKind.Step, 0.1, 250, Gamma: 0.97);
        Assert.Equal(0.1 * Math.Pow(0.97, 10), step.At(10), 12);
        var linear = new LrSchedule(ScheduleKind.Linear, 0.5, 250, WarmupEpochs: 5);
        Assert.Equal(0.1, linear.At(0), 12);         // warm-up: the schedule's 0.5 * 1/5
        Assert.Equal(0.5 * 241 / 245.0, linear.At(4), 12); // the schedule's own rate of epoch 4 at its end
        var warmStep = new LrSchedule(ScheduleKind.Step, 0.8, 250, Gamma: 0.97, WarmupEpochs: 5);
        Assert.True(warmStep.At(4) > warmStep.At(5) && warmStep.At(5) / warmStep.At(4) > 0.96); // no jump where the warm-up ends
        Assert.Equal(0.5 * 145 / 245.0, linear.At(100), 12);
        Assert.Equal(0.5 * 3 / (245 * 5.0), linear.At(247), 12); // the last 5 epochs
    }

    [Fact]
    public void Label_smoothing_loss_matches_a_hand_computed_value()
    {
        using var logits = torch.tensor(new float[] { 2, 0, -1, 0.5f, 0.5f, 1 }, [2, 3]);
        using var labels = torch.tensor(new long[] { 0, 2 });
        double Expected(float[] z, int y, double eps)
        {
            double lse = Math.Log(z.Sum(v => Math.Exp(v)));
            var logp = z.Select(v => v - lse).ToArray();
            return -((1 - eps) * logp[y] + eps / z.Length * logp.Sum());
        }
        double want = (Expected([2, 0, -1], 0, 0.1) + Expected([0.5f, 0.5f, 1], 2, 0.1)) / 2;
        using var loss = Losses.CrossEntropy(logits, labels, 0.1);
        Assert.Equal(want, loss.ToDouble(), 5);
        using var plain = Losses.CrossEntropy(logits, labels, 0);
        Assert.Equal((Expected([2, 0, -1], 0, 0) + Expected([0.5f, 0.5f, 1], 2, 0)) / 2, plain.ToDouble(), 5);
    }

    [Fact]
    public void Top_k_counts_hits()
    {
        using var logits = torch.tensor(new float[] { 3, 2, 1, 0, 0, 1, 2, 3 }, [2, 4]);
        using var labels = torch.tensor(new long[] { 1, 0 });
        Assert.Equal([0L, 2L, 2L], Losses.TopKCorrect(logits, labels, 1, 4, 5));
    }

    internal static TrainOptions Tiny(NetworkKind kind = NetworkKind.Cifar) => TrainPresets.Create("smoke", kind) with
    {
        Channels = 4, Layers = kind == NetworkKind.Nb201 ? 1 : 3, Epochs = 3, BatchSize = 16, MaxTrainImages = 64, MaxValidImages = 48,
        Workers = 0, EvalBatchSize = 24, AuxWeight = kind == NetworkKind.Nb201 ? 0 : 0.4, DropPath = kind == NetworkKind.Nb201 ? 0 : 0.2,
    };

    private static DatasetRef Cifar => DatasetRef.Resolve("cifar10", TestPaths.DataRoot);

    [Fact]
    public void Imagenet_training_jitters_hue_as_darts_does_and_the_cpu_recipe_does_not()
    {
        using var dir = new TempDir();
        var arch = Architecture.ParseText(NetworkTests.DartsV2);
        var imagenette = DatasetRef.Resolve("imagenette", TestPaths.DataRoot);
        (IImageTransform Train, IImageTransform, EvalPreprocessing) Of(string preset, NetworkKind kind) =>
            new TrainRunner(TrainPresets.Create(preset, kind), arch, imagenette, dir.Path, TextWriter.Null, TestCompute.Cpu).Transforms();
        var paper = Assert.IsType<ImageNetTrainTransform>(Of("paper-imagenet", NetworkKind.ImageNet).Train);
        Assert.Equal(new ColorJitter(0.4f, 0.4f, 0.4f, 0.2f), paper.Jitter);
        var cpu = Assert.IsType<ImageNetTrainTransform>(Of("cpu", NetworkKind.ImageNet64).Train);
        Assert.True(cpu.Jitter.IsIdentity);
        // Runs from before the option (no hue) read back as they ran, and keep the options they were written with.
        Assert.DoesNotContain("Hue", TrainRunner.OptionsJson(TrainPresets.Create("cpu", NetworkKind.ImageNet64)));
        Assert.Contains("\"Hue\": 0.2", TrainRunner.OptionsJson(TrainPresets.Create("paper-imagenet", NetworkKind.ImageNet)));
        // NAS-Bench-201's protocol trains without gradient clipping (DARTS's clips at 5); 0 is a valid --grad-clip.
        Assert.Equal(0, TrainPresets.Create("paper-cifar", NetworkKind.Nb201).GradClip);
        Assert.Equal(5, TrainPresets.Create("paper-cifar", NetworkKind.Cifar).GradClip);
        Assert.Equal(0, SearchToDeploy.Runs.OptionTable.ApplyText(TrainPresets.Create("cpu", NetworkKind.Nb201), [new("grad-clip", "0")], "test").GradClip);
        Assert.Equal(0, JsonSerializer.Deserialize<TrainOptions>("{}", TrainHeader.Json)!.Hue);
    }

    [Fact]
    public void Size_check_leaves_batchnorm_statistics_as_they_were()
    {
        using var dir = new TempDir();
        var arch = Architecture.ParseText(NetworkTests.DartsV2);
        var o = Tiny();
        using var net = NetworkFactory.Create(arch, new NetworkConfig(o.Network, o.Channels, o.Layers, 10, Auxiliary: true));
        Assert.True(net.HasAuxiliary);
        var before = net.buffers().Select(b => b.clone()).ToList();
        new TrainRunner(o, arch, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).CheckSize(net, 32);
        foreach (var (after, was) in net.buffers().Zip(before))
            Assert.True(after.eq(was).all().item<bool>(), "a buffer changed");
    }

    [Fact]
    public void Training_writes_a_complete_run_folder_and_the_best_checkpoint_loads()
    {
        using var dir = new TempDir();
        var arch = Architecture.ParseText(NetworkTests.DartsV2);
        var history = new TrainRunner(Tiny(), arch, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        Assert.Equal(3, history.Count);
        foreach (var f in new[] { "best.s2d", "last.s2d", "options.json", "metrics.csv", "metrics.json", "curves.png", "cell_normal.svg", TensorBoardEvents.FileName })
            Assert.True(File.Exists(dir[f]), $"{f} missing");
        using var metrics = JsonDocument.Parse(File.ReadAllText(dir["metrics.json"]));
        var best = history.Max(h => h.ValidTop1);
        Assert.Equal(best, metrics.RootElement.GetProperty("best_top1").GetDouble(), 6);
        Assert.True(metrics.RootElement.GetProperty("multiply_adds").GetInt64() > 0);
        Assert.All(history, h => Assert.InRange(h.ValidTop5, h.ValidTop1, 100));

        // The best checkpoint rebuilds the network and reproduces its recorded top-1 on the same images (a stratified subset).
        using var model = TrainedModel.Load(dir.Path);
        Assert.Equal(10, model.Header.Classes.Count);
        var test = Cifar.Open(Split.Test);
        var eval = new DataLoader(test, Subsets.Stratified(test, 48, Tiny().Seed), SearchToDeploy.Data.Transforms.CifarTransform.Eval(Cifar.Normalization),
            new LoaderOptions(24, false, 0, Workers: 0));
        double top1 = SearchToDeploy.Runs.Evaluation.Run(model.Network, eval, torch.CPU, null, [1]).TopK[0];
        Assert.Equal(best, top1, 6);
    }

    [Fact]
    public void Interrupted_and_resumed_training_equals_the_uninterrupted_run_bit_for_bit()
    {
        using var full = new TempDir();
        using var split = new TempDir();
        var arch = Architecture.ParseText(NetworkTests.DartsV2);
        var o = Tiny();
        new TrainRunner(o, arch, Cifar, full.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        new TrainRunner(o with { StopAfterEpochs = 1 }, arch, Cifar, split.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        Assert.Throws<InputException>(() => new TrainRunner(o, arch, Cifar, split.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false));
        new TrainRunner(o with { Workers = 1 }, arch, Cifar, split.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: true);

        var (_, a) = CheckpointFile.Load(full["last.s2d"]);
        var (_, b) = CheckpointFile.Load(split["last.s2d"]);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var k in a.Keys) Assert.True(a[k].bytes.SequenceEqual(b[k].bytes), $"{k} differs after resume");
        Assert.Equal(File.ReadAllText(full["metrics.csv"]).Split('\n').Select(l => string.Join(',', l.Split(',').SkipLast(2))),
                     File.ReadAllText(split["metrics.csv"]).Split('\n').Select(l => string.Join(',', l.Split(',').SkipLast(2))));
    }

    [Fact]
    public void Weights_that_turn_non_finite_on_an_epochs_last_step_never_replace_the_last_good_checkpoint()
    {
        using var dir = new TempDir();
        var arch = Architecture.ParseText(NetworkTests.Nb201Best);
        var o = Tiny(NetworkKind.Nb201) with { Epochs = 1 };
        var count = new SearchToDeploy.Tests.Nas.SearchRunTests.NaNGradientsAtCall();
        new TrainRunner(o, arch, Cifar, dir["count"], TextWriter.Null, TestCompute.Cpu) { Sync = count }.Run(resume: false);
        // The last step of epoch 1: epoch 0's checkpoint is the last good one.
        var poison = new SearchToDeploy.Tests.Nas.SearchRunTests.NaNGradientsAtCall { At = 2 * count.Calls };
        var e = Assert.Throws<DivergedException>(() => new TrainRunner(o with { Epochs = 3 }, arch, Cifar, dir["run"], TextWriter.Null, TestCompute.Cpu) { Sync = poison }.Run(resume: false));
        Assert.Contains("after epoch 1: the network's weights hold NaN or infinite values; the training stopped and the last good checkpoint (end of epoch 0) is kept", e.Message);
        var (header, tensors) = CheckpointFile.Load(dir["run/last.s2d"]);
        Assert.Equal(1, JsonSerializer.Deserialize<TrainHeader>(header, TrainHeader.Json)!.EpochsDone);
        Assert.All(tensors.Values.Where(t => t.is_floating_point()), t => Assert.True(t.isfinite().all().item<bool>()));
    }

    [Fact]
    public void A_run_killed_between_its_first_checkpoint_and_its_best_model_writes_the_best_when_resumed()
    {
        using var dir = new TempDir();
        var arch = Architecture.ParseText(NetworkTests.Nb201Best);
        var o = Tiny(NetworkKind.Nb201) with { Epochs = 1 };
        new TrainRunner(o, arch, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        // The first epoch writes last.s2d, then best.s2d: a kill between leaves the checkpoint alone. Resumed, the run has
        // no epoch left to train, so only the repair can write the best model.
        File.Delete(dir["best.s2d"]);
        new TrainRunner(o, arch, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: true);
        Assert.True(File.Exists(dir["best.s2d"]));
        using var model = TrainedModel.Load(dir.Path);
        Assert.Equal(1, model.Header.EpochsDone);
    }

    [Fact]
    public void A_new_training_in_a_folder_whose_last_checkpoint_is_gone_does_not_write_over_its_model()
    {
        using var dir = new TempDir();
        var arch = Architecture.ParseText(NetworkTests.Nb201Best);
        var o = Tiny(NetworkKind.Nb201) with { Epochs = 1 };
        new TrainRunner(o, arch, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        File.Delete(dir["last.s2d"]);
        byte[] model = File.ReadAllBytes(dir["best.s2d"]);
        foreach (bool resume in new[] { false, true })
        {
            var e = Assert.Throws<InputException>(() => new TrainRunner(o, arch, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume));
            Assert.Contains("holds a trained model (best.s2d) but not last.s2d", e.Message);
        }
        Assert.Equal(model, File.ReadAllBytes(dir["best.s2d"]));
    }

    [Fact]
    public void Resuming_on_a_dataset_with_another_class_count_is_bad_input()
    {
        using var dir = new TempDir();
        var arch = Architecture.ParseText(NetworkTests.Nb201Best);
        var o = Tiny(NetworkKind.Nb201) with { Epochs = 2, StopAfterEpochs = 1 };
        new TrainRunner(o, arch, Cifar, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        // A 3-class image folder in the real format (PNG files in class folders).
        using var folder = new TempDir();
        foreach (var split in new[] { "train", "val" })
            RealFormats.WriteImageFolder(folder[split], ["a", "b", "c"], 16);
        var other = DatasetRef.Resolve("imagefolder", TestPaths.DataRoot, folder.Path);
        var e = Assert.Throws<InputException>(() => new TrainRunner(o with { ImageSize = 32 }, arch, other, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: true));
        Assert.Contains("classes", e.Message);
    }

    [Fact]
    public void A_bad_genotype_file_is_bad_input()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["genotype.json"], "{\"format\": \"s2d-genotype\", \"version\": 1, \"architecture\": \"Genotype(normal=[('sep_conv_3x3', 0)\"}");
        Assert.Throws<InputException>(() => GenotypeFile.LoadFileOrText(dir["genotype.json"]));
        Assert.Throws<InputException>(() => GenotypeFile.LoadFileOrText(dir["missing.json"]));
    }

    [Fact]
    public void Imagenet_network_trains_checkpoints_and_resumes_on_the_imagenet_sample()
    {
        using var dir = new TempDir();
        var arch = Architecture.ParseText(NetworkTests.DartsV2);
        // The sample has one image per class and no val/ split: train and validate on class folders of a copy.
        using var data = new TempDir();
        var classes = Directory.GetDirectories(Path.Combine(TestPaths.ImageNetSample, "val")).Order().Take(4).ToArray();
        foreach (var split in new[] { "train", "val" })
            foreach (var c in classes)
            {
                Directory.CreateDirectory(data[$"{split}/{Path.GetFileName(c)}"]);
                foreach (var f in Directory.GetFiles(c)) File.Copy(f, data[$"{split}/{Path.GetFileName(c)}/{Path.GetFileName(f)}"]);
            }
        var ds = DatasetRef.Resolve("imagenet", TestPaths.DataRoot, data.Path);
        var o = TrainPresets.Create("smoke", NetworkKind.ImageNet) with
        {
            Channels = 8, Layers = 3, Epochs = 2, BatchSize = 2, AuxWeight = 0, MaxTrainImages = 0, MaxValidImages = 0, Workers = 0, ImageSize = 64,
            StopAfterEpochs = 1,
        };
        new TrainRunner(o, arch, ds, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        var history = new TrainRunner(o with { StopAfterEpochs = 0 }, arch, ds, dir.Path, TextWriter.Null, TestCompute.Cpu).Run(resume: true);
        Assert.Equal(2, history.Count);
        using var model = TrainedModel.Load(dir.Path);
        Assert.Equal(NetworkKind.ImageNet, model.Header.Network);
        Assert.Equal(4, model.Header.Classes.Count);
    }
}
