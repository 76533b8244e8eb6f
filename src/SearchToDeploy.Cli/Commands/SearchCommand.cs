using System.CommandLine;
using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Runs;
using SearchToDeploy.Runs.Search;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d search</c>: a preset fills every setting; each option overrides one.</summary>
public static class SearchCommand
{
    public static Command Create(CliIo io)
    {
        var cmd = new Command("search", "Search a cell with RF-PCDARTS, RF-DARTS, PC-DARTS or DARTS; writes genotype.json, logs, plots and checkpoints into --out");
        var space = new Option<string>("--space") { Description = $"Search space: {string.Join(", ", SearchSpaces.All.Select(s => s.Name))}", DefaultValueFactory = _ => "nas-bench-201" };
        var method = new Option<string>("--method") { Description = $"Method: {string.Join(", ", SearchMethod.Names)}", DefaultValueFactory = _ => "rf-pcdarts" };
        var dataset = CommonOptions.Dataset(required: false);
        dataset.DefaultValueFactory = _ => "cifar10";
        var root = CommonOptions.DataRoot();
        var data = CommonOptions.DataPath();
        var preset = new Option<string>("--preset") { Description = "paper (published settings) or cpu (reduced budget for a 2-core CPU, under 30 minutes); smoke is a tiny CI budget", DefaultValueFactory = _ => "paper" };
        var outDir = new Option<string>("--out") { Description = "Run folder (runs/<name>)", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint, with the settings it was started with (options given again override runtime ones; others must match)" };
        var force = new Option<bool>("--force") { Description = "Delete an existing run in --out and start over" };

        var seed = new Option<long?>("--seed") { Description = "Random seed (default 2, as DARTS)" };
        var epochs = new Option<int?>("--epochs") { Description = "Search epochs" };
        var batch = new Option<int?>("--batch-size") { Description = "Batch size of both halves" };
        var portion = new Option<double?>("--train-portion") { Description = "Fraction of the training set that trains the weights; the rest trains α (default 0.5)" };
        var maxImages = new Option<int?>("--max-images") { Description = "Cap on images in each half of the split (0 = all)" };
        var validImages = new Option<int?>("--valid-images") { Description = "Images of the architecture half evaluated after each epoch (0 = all)" };
        var lr = new Option<double?>("--lr") { Description = "Weight learning rate (cosine-annealed per epoch)" };
        var lrMin = new Option<double?>("--lr-min") { Description = "Final weight learning rate" };
        var momentum = new Option<double?>("--momentum") { Description = "SGD momentum" };
        var nesterov = new Option<bool?>("--nesterov") { Description = "Nesterov momentum" };
        var wd = new Option<double?>("--weight-decay") { Description = "Weight decay of the trainable weights" };
        var bnWd = new Option<double?>("--bn-weight-decay") { Description = "Weight decay of BN affine parameters (default: --weight-decay; RF methods: 0)" };
        var clip = new Option<double?>("--grad-clip") { Description = "Gradient norm clip of the weights" };
        var dropPath = new Option<double?>("--drop-path") { Description = "Drop-path probability on op outputs during search" };
        var cutout = new Option<int?>("--cutout") { Description = "Cutout length (0 = off)" };
        var archLr = new Option<double?>("--arch-lr") { Description = "Adam learning rate of α (and β)" };
        var archWd = new Option<double?>("--arch-weight-decay") { Description = "Adam weight decay of α" };
        var warmup = new Option<int?>("--arch-warmup") { Description = "Epochs before α starts to train (PC-DARTS 15)" };
        var unrolled = new Option<bool?>("--unrolled") { Description = "Second-order (unrolled) architecture gradient" };
        var epsilon = new Option<double?>("--unrolled-epsilon") { Description = "Second order: finite-difference step of the Hessian-vector product, divided by the gradient norm (DARTS 0.01)" };
        var parallel = new Option<bool?>("--parallel-steps") { Description = "First order: architecture and weight gradients side by side on two cores, then both updates (simultaneous instead of alternating; about 1.2x faster on 2 cores)" };
        var precision = new Option<string?>("--precision") { Description = "Activations: fp32 (default) or bf16 (bfloat16 activations, float32 parameters and optimizer state; first order only; 1.3-1.7x faster on CPUs with AVX-512 BF16)" };
        var channels = new Option<int?>("--channels") { Description = "Initial channels C (16)" };
        var layers = new Option<int?>("--layers") { Description = "DARTS: cells (8); NAS-Bench-201: cells per stage (5)" };
        var nodes = new Option<int?>("--nodes") { Description = "Intermediate nodes of a DARTS-style cell (4)" };
        var k = new Option<int?>("--partial-k") { Description = "Partial-channel factor K of PC methods (4)" };
        var init = new Option<string?>("--frozen-init") { Description = "RF: initialisation of the frozen filters: kaiming-normal (default for RF), kaiming-uniform, or default (torch's Kaiming-uniform a=sqrt(5))" };
        var trainClassifier = new Option<bool?>("--train-classifier") { Description = "RF: whether the final linear classifier trains (default true; false keeps it a random feature too)" };
        var trackStats = new Option<bool?>("--bn-running-stats") { Description = "BN tracks running statistics (evaluation uses them); false = always batch statistics" };
        var bnMomentum = new Option<double?>("--bn-momentum") { Description = "BN running-statistics momentum (0.1)" };
        var withoutNone = new Option<bool?>("--derive-without-none") { Description = "NAS-Bench-201: derive each edge's op from the ops other than none (default: the benchmark's argmax over all five)" };
        var workers = new Option<int?>("--workers") { Description = "Data loader threads per loader" };
        var threads = new Option<int?>("--threads") { Description = "Torch threads (default: all cores)" };
        var device = CommonOptions.Device();
        var table = new Option<string?>("--nb201-table") { Description = "NAS-Bench-201 accuracy table (TSV): log each epoch's cell accuracy (default: <data root>/nas-bench-201/accuracy.tsv if present)" };

        foreach (var o in new Option[] { space, method, dataset, root, data, preset, outDir, resume, force, seed, epochs, batch, portion, maxImages, validImages,
                     lr, lrMin, momentum, nesterov, wd, bnWd, clip, dropPath, cutout, archLr, archWd, warmup, unrolled, epsilon, parallel, precision, channels, layers, nodes, k,
                     init, trainClassifier, trackStats, bnMomentum, withoutNone, workers, threads, device, table })
            cmd.Options.Add(o);

        cmd.SetAction(r => io.Guard(() =>
        {
            string dir = r.GetValue(outDir)!;
            var m = SearchMethod.Parse(r.GetValue(method)!);
            // Resuming starts from the run's own options.json: only what is given again (runtime settings such as
            // --threads, or a change the checkpoint then refuses by name) overrides it.
            var saved = r.GetValue(resume) && !r.GetValue(force) ? SearchRunner.SavedOptions(dir) : null;
            if (saved is not null)
                CommonOptions.RefuseChangeOnResume(r, Path.Combine(dir, CheckpointFile.OptionsFileName), (space, SearchSpaces.Get(r.GetValue(space)!).Name, saved.SearchSpace.Name),
                    (method, m.Name, saved.Method.Name), (preset, r.GetValue(preset)!, saved.Preset), (dataset, DatasetRef.CanonicalName(r.GetValue(dataset)!), DatasetRef.CanonicalName(saved.Dataset)));
            var o = saved ?? SearchPresets.Create(r.GetValue(preset)!, r.GetValue(space)!, m);
            string dataRoot = DataRoot.Resolve(r.GetValue(root));
            o = o with
            {
                Dataset = CommonOptions.Given(r, dataset) ? r.GetValue(dataset)! : o.Dataset,
                DataPath = r.GetValue(data) ?? o.DataPath,
                Seed = r.GetValue(seed) ?? o.Seed,
                Epochs = r.GetValue(epochs) ?? o.Epochs,
                BatchSize = r.GetValue(batch) ?? o.BatchSize,
                TrainPortion = r.GetValue(portion) ?? o.TrainPortion,
                MaxImagesPerPart = r.GetValue(maxImages) ?? o.MaxImagesPerPart,
                ValidImages = r.GetValue(validImages) ?? o.ValidImages,
                LearningRate = r.GetValue(lr) ?? o.LearningRate,
                LearningRateMin = r.GetValue(lrMin) ?? o.LearningRateMin,
                Momentum = r.GetValue(momentum) ?? o.Momentum,
                Nesterov = r.GetValue(nesterov) ?? o.Nesterov,
                WeightDecay = r.GetValue(wd) ?? o.WeightDecay,
                BnWeightDecay = r.GetValue(bnWd) ?? o.BnWeightDecay,
                GradClip = r.GetValue(clip) ?? o.GradClip,
                DropPath = r.GetValue(dropPath) ?? o.DropPath,
                Cutout = r.GetValue(cutout) ?? o.Cutout,
                ArchLearningRate = r.GetValue(archLr) ?? o.ArchLearningRate,
                ArchWeightDecay = r.GetValue(archWd) ?? o.ArchWeightDecay,
                ArchWarmupEpochs = r.GetValue(warmup) ?? o.ArchWarmupEpochs,
                Unrolled = r.GetValue(unrolled) ?? o.Unrolled,
                UnrolledEpsilon = r.GetValue(epsilon) ?? o.UnrolledEpsilon,
                ParallelSteps = r.GetValue(parallel) ?? o.ParallelSteps,
                Precision = r.GetValue(precision) is { } pr ? Precisions.Parse(pr) : o.Precision,
                Channels = r.GetValue(channels) ?? o.Channels,
                Layers = r.GetValue(layers) ?? o.Layers,
                Steps = r.GetValue(nodes) ?? o.Steps,
                PartialK = r.GetValue(k) ?? o.PartialK,
                FrozenInit = r.GetValue(init) is { } fi ? ParseInit(fi) : o.FrozenInit,
                TrainClassifier = r.GetValue(trainClassifier) ?? o.TrainClassifier,
                TrackRunningStats = r.GetValue(trackStats) ?? o.TrackRunningStats,
                BnMomentum = r.GetValue(bnMomentum) ?? o.BnMomentum,
                DeriveWithoutNone = r.GetValue(withoutNone) ?? o.DeriveWithoutNone,
                Workers = r.GetValue(workers) ?? o.Workers,
                Threads = r.GetValue(threads) ?? o.Threads,
                Device = r.GetValue(device) ?? o.Device,
                Nb201Table = r.GetValue(table) ?? (saved is not null ? o.Nb201Table : DefaultTable(dataRoot)),
            };
            var ds = DatasetRef.Resolve(o.Dataset, dataRoot, o.DataPath);
            RunFolder.Prepare(dir, "search", clear: r.GetValue(force));
            using var log = new RunLog(io.Out, Path.Combine(dir, "log.txt"));
            try
            {
                new SearchRunner(o, ds, dir, log).Run(r.GetValue(resume));
            }
            catch (DivergedException e)
            {
                log.WriteLine($"error: {e.Message}");
                return S2dApp.Failure;
            }
            return S2dApp.Success;
        }));
        return cmd;
    }

    private static string? DefaultTable(string dataRoot)
    {
        string p = Path.Combine(dataRoot, "nas-bench-201", "accuracy.tsv");
        return File.Exists(p) ? p : null;
    }

    internal static FrozenInit ParseInit(string s) => s.ToLowerInvariant() switch
    {
        "default" => FrozenInit.Default,
        "kaiming-normal" => FrozenInit.KaimingNormal,
        "kaiming-uniform" => FrozenInit.KaimingUniform,
        _ => throw new InputException($"--frozen-init '{s}': expected default, kaiming-normal or kaiming-uniform"),
    };
}
