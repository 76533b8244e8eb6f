using System.CommandLine;
using System.Globalization;
using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Data;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Runs;
using SearchToDeploy.Runs.Training;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d train</c>: retrain a network built from a searched cell; a preset fills every setting, each option overrides one.</summary>
public static class TrainCommand
{
    public static Command Create(CliIo io)
    {
        var cmd = new Command("train", "Train the network built from a genotype (CIFAR, ImageNet mobile setting or NAS-Bench-201) with the published recipes; " +
                                       "writes best/last checkpoints, metrics.json, logs and plots into --out");
        var genotype = CommonOptions.Genotype(required: false);
        var network = CommonOptions.Network();
        var dataset = CommonOptions.Dataset(required: false);
        dataset.DefaultValueFactory = _ => "cifar10";
        var root = CommonOptions.DataRoot();
        var data = CommonOptions.DataPath();
        var coarse = CommonOptions.CoarseLabels();
        var preset = new Option<string?>("--preset") { Description = $"{string.Join(", ", TrainPresets.Names)} (default: paper-imagenet for the ImageNet network, cpu for its 64-px variant, else paper-cifar)" };
        var outDir = new Option<string>("--out") { Description = "Run folder (runs/<name>)", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint, with the cell and settings it was started with (options given again override runtime ones; others must match)" };
        var force = new Option<bool>("--force") { Description = "Delete an existing run in --out and start over" };

        var channels = new Option<long?>("--channels") { Description = "Initial channels C (CIFAR 36, ImageNet 48, NAS-Bench-201 16)" };
        var layers = new Option<int?>("--layers") { Description = "Cells (CIFAR 20, ImageNet 14); NAS-Bench-201: cells per stage (5)" };
        var aux = new Option<double?>("--aux-weight") { Description = "Auxiliary head loss weight (0.4); 0 builds no auxiliary head" };
        var dropPath = new Option<double?>("--drop-path") { Description = "Final drop-path probability, ramped linearly from 0 (CIFAR 0.2)" };
        var imageSize = new Option<int?>("--image-size") { Description = "ImageNet-style datasets: training crop and evaluation centre crop (224; 64 with the cpu and smoke presets and on Imagenette)" };
        var maxMadds = CommonOptions.MaxMadds();
        var epochs = new Option<int?>("--epochs") { Description = "Epochs" };
        var batch = new Option<int?>("--batch-size") { Description = "Batch size (paper-imagenet scales the learning rate with it)" };
        var lr = new Option<double?>("--lr") { Description = "Initial learning rate" };
        var lrMin = new Option<double?>("--lr-min") { Description = "Cosine schedule: final learning rate (0)" };
        var schedule = new Option<string?>("--schedule") { Description = "cosine (per epoch), step (x gamma per epoch) or linear (PC-DARTS ImageNet)" };
        var gamma = new Option<double?>("--gamma") { Description = "Step schedule factor per epoch (0.97)" };
        var warmup = new Option<int?>("--warmup-epochs") { Description = "Linear learning-rate warm-up epochs" };
        var momentum = new Option<double?>("--momentum") { Description = "SGD momentum (0.9)" };
        var nesterov = new Option<bool?>("--nesterov") { Description = "Nesterov momentum" };
        var wd = new Option<double?>("--weight-decay") { Description = "Weight decay" };
        var smoothing = new Option<double?>("--label-smoothing") { Description = "Label smoothing of the training loss (ImageNet 0.1)" };
        var clip = new Option<double?>("--grad-clip") { Description = "Gradient norm clip (5)" };
        var cutout = new Option<int?>("--cutout") { Description = "CIFAR-style datasets: cutout length (16; 0 = off)" };
        var jitter = new Option<float?>("--color-jitter") { Description = "ImageNet-style datasets: brightness/contrast/saturation jitter (0.4)" };
        var cropScale = new Option<double?>("--crop-scale") { Description = "ImageNet-style datasets: smallest share of the image area a random-resized crop takes (torchvision 0.08)" };
        var maxTrain = new Option<int?>("--max-train-images") { Description = "Train on a seeded random subset of this many images (0 = all)" };
        var maxValid = new Option<int?>("--max-valid-images") { Description = "Validate on a seeded subset of this many images, each class in proportion (0 = all)" };
        var seed = new Option<long?>("--seed") { Description = "Random seed (0)" };
        var workers = new Option<int?>("--workers") { Description = "Data loader threads" };
        var threads = new Option<int?>("--threads") { Description = "Torch threads (default: all cores)" };
        var device = CommonOptions.Device();
        var stopAfter = new Option<int?>("--stop-after") { Description = "Stop after this many epochs of this invocation (resume later with --resume)" };

        foreach (var o in new Option[] { genotype, network, dataset, root, data, coarse, preset, outDir, resume, force, channels, layers, aux, dropPath,
                     imageSize, maxMadds, epochs, batch, lr, lrMin, schedule, gamma, warmup, momentum, nesterov, wd, smoothing, clip, cutout, jitter, cropScale,
                     maxTrain, maxValid, seed, workers, threads, device, stopAfter })
            cmd.Options.Add(o);

        cmd.SetAction(r => io.Guard(() =>
        {
            string dir = r.GetValue(outDir)!;
            // Resuming starts from the run's own settings and cell (its last checkpoint): only what is given again
            // overrides them (runtime settings; any other change the checkpoint refuses by name).
            var saved = r.GetValue(resume) && !r.GetValue(force) ? TrainRunner.Saved(dir) : null;
            var arch = r.GetValue(genotype) is { } g ? CommonOptions.LoadGenotype(g)
                : saved?.Genotype ?? throw new InputException("--genotype: required (a genotype.json file or a genotype string), except with --resume of a run folder that holds a checkpoint");
            var savedOptions = saved?.Options;
            if (savedOptions is not null)
                CommonOptions.RefuseChangeOnResume(r, Path.Combine(dir, CheckpointFile.OptionsFileName), (preset, r.GetValue(preset), savedOptions.Preset),
                    (batch, r.GetValue(batch)?.ToString(CultureInfo.InvariantCulture), savedOptions.BatchSize.ToString(CultureInfo.InvariantCulture)));
            var ds = savedOptions is not null && !CommonOptions.Given(r, dataset) && r.GetValue(data) is null
                ? DatasetRef.Resolve(savedOptions.Dataset, DataRoot.Resolve(r.GetValue(root)), savedOptions.DataPath, r.GetValue(coarse))
                : CommonOptions.ResolveDataset(r, dataset, root, data, coarse);
            // ImageNet-style images train at 224 px (the mobile network) with the paper recipe, at 64 px (the 64-px
            // network) with the cpu and smoke recipes and on Imagenette, unless --image-size says otherwise.
            int size = r.GetValue(imageSize) ?? (r.GetValue(preset) is "cpu" or "smoke" || ds.Kind == DatasetKind.Imagenette ? 64 : 224);
            var kind = r.GetValue(network) is { } n ? RetrainNetwork.ParseKind(n) : savedOptions?.Network ?? NetworkConfig.DefaultKind(arch.Architecture, ds.IsSmallImage, size);
            string presetName = r.GetValue(preset) ?? kind switch { NetworkKind.ImageNet => "paper-imagenet", NetworkKind.ImageNet64 => "cpu", _ => "paper-cifar" };
            var o = savedOptions ?? TrainPresets.Create(presetName, kind, r.GetValue(batch));
            o = o with
            {
                Dataset = ds.Name, DataPath = r.GetValue(data) ?? o.DataPath, Network = kind,
                Channels = r.GetValue(channels) ?? o.Channels,
                Layers = r.GetValue(layers) ?? o.Layers,
                AuxWeight = r.GetValue(aux) ?? o.AuxWeight,
                DropPath = r.GetValue(dropPath) ?? o.DropPath,
                ImageSize = r.GetValue(imageSize) ?? o.ImageSize,
                MaxMultiplyAdds = r.GetValue(maxMadds) is { } mm ? (long)(mm * 1e6) : o.MaxMultiplyAdds,
                Epochs = r.GetValue(epochs) ?? o.Epochs,
                LearningRate = r.GetValue(lr) ?? o.LearningRate,
                LearningRateMin = r.GetValue(lrMin) ?? o.LearningRateMin,
                Schedule = r.GetValue(schedule) is { } s ? LrSchedule.Parse(s) : o.Schedule,
                StepGamma = r.GetValue(gamma) ?? o.StepGamma,
                WarmupEpochs = r.GetValue(warmup) ?? o.WarmupEpochs,
                Momentum = r.GetValue(momentum) ?? o.Momentum,
                Nesterov = r.GetValue(nesterov) ?? o.Nesterov,
                WeightDecay = r.GetValue(wd) ?? o.WeightDecay,
                LabelSmoothing = r.GetValue(smoothing) ?? o.LabelSmoothing,
                GradClip = r.GetValue(clip) ?? o.GradClip,
                Cutout = r.GetValue(cutout) ?? o.Cutout,
                ColorJitter = r.GetValue(jitter) ?? o.ColorJitter,
                CropScaleMin = r.GetValue(cropScale) ?? o.CropScaleMin,
                MaxTrainImages = r.GetValue(maxTrain) ?? o.MaxTrainImages,
                MaxValidImages = r.GetValue(maxValid) ?? o.MaxValidImages,
                Seed = r.GetValue(seed) ?? o.Seed,
                Workers = r.GetValue(workers) ?? o.Workers,
                Threads = r.GetValue(threads) ?? o.Threads,
                Device = r.GetValue(device) ?? o.Device,
                StopAfterEpochs = r.GetValue(stopAfter) ?? 0,
            };
            RunFolder.Prepare(dir, "train", clear: r.GetValue(force));
            using var log = new RunLog(io.Out, Path.Combine(dir, "log.txt"));
            try
            {
                new TrainRunner(o, arch, ds, dir, log).Run(r.GetValue(resume));
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
}
