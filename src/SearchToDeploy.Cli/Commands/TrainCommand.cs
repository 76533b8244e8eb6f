using System.CommandLine;
using System.Globalization;
using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Core.Torch;
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
        var outDir = new Option<string>("--out") { Description = "Run folder (runs/<name>); required unless --print-config" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint, with the cell and settings it was started with (options given again override runtime ones; others must match)" };
        var force = new Option<bool>("--force") { Description = "Start over in an --out that holds a run: the earlier run is kept aside until the new one ends, then deleted if the new one wrote a checkpoint, else put back" };

        var maxMadds = CommonOptions.MaxMadds();
        var batch = new Option<int?>("--batch-size") { Description = "Batch size (paper-imagenet scales the learning rate with it)" };
        var device = CommonOptions.Device();
        var config = CommonOptions.Config();
        var print = CommonOptions.PrintConfig();
        foreach (var o in new Option[] { genotype, network, dataset, root, data, coarse, preset, outDir, resume, force, maxMadds, batch, device, config, print }) cmd.Options.Add(o);
        // Every other setting: the options TrainOptions declares, with their names, descriptions and ranges.
        var settings = new OptionBinder<TrainOptions>(cmd, "--batch-size"); // declared above: it picks the preset's learning rate
        var imageSize = (Option<int?>)settings["--image-size"];

        cmd.SetAction(r => MpiLaunch.Guard(io, (sync, io) =>
        {
            var file = CommonOptions.ReadConfig(r, config);
            string? format = CommonOptions.PrintFormat(r, print);
            string dir = r.GetValue(outDir) ?? (format is null ? throw new InputException("--out: required (the run folder), except with --print-config") : "");
            // The command line, else the settings file, for the options that pick what the run is.
            string? genotypeArg = CommonOptions.Pick(r, genotype, file), networkArg = CommonOptions.Pick(r, network, file), dataArg = CommonOptions.Pick(r, data, file);
            string? presetArg = CommonOptions.Pick(r, preset, file), batchArg = CommonOptions.Pick(r, batch, file), maddsArg = CommonOptions.Pick(r, maxMadds, file);
            string datasetArg = CommonOptions.Pick(r, dataset, file)!;
            int? batchSize = batchArg is null ? null : int.TryParse(batchArg, CultureInfo.InvariantCulture, out int b) && b > 0 ? b : throw new InputException($"--batch-size {batchArg}: expected a positive whole number");
            if (r.GetValue(resume) && r.GetValue(force))
                throw new InputException("--resume and --force: --resume continues the run in --out, --force starts it over; give one");
            if (format is null && dir.Length > 0) MpiLaunch.SettleRunFolder(sync, io, dir); // what an interrupted --force left, before the run is read
            // Resuming starts from the run's own settings and cell (its last checkpoint): only what is given again
            // overrides them (runtime settings; any other change the checkpoint refuses by name).
            var saved = r.GetValue(resume) ? TrainRunner.Saved(dir) : null;
            var arch = genotypeArg is { } g ? CommonOptions.LoadGenotype(g)
                : saved?.Genotype ?? throw new InputException("--genotype: required (a genotype.json file or a genotype string), except with --resume of a run folder that holds a checkpoint");
            var savedOptions = saved?.Options;
            if (savedOptions is not null)
                CommonOptions.RefuseChangeOnResume(r, Path.Combine(dir, CheckpointFile.OptionsFileName), (preset, r.GetValue(preset), savedOptions.Preset),
                    (batch, r.GetValue(batch)?.ToString(CultureInfo.InvariantCulture), savedOptions.BatchSize.ToString(CultureInfo.InvariantCulture)));
            string dataRoot = DataRoot.Resolve(r.GetValue(root));
            bool coarseLabels = CommonOptions.Given(r, coarse) ? r.GetValue(coarse)
                : file?["coarse-labels"] is { } ct ? CommonOptions.ParseFlag(ct.ToString(), r.GetValue(config)!, coarse.Name)
                : savedOptions?.CoarseLabels ?? false;
            // On resume the run's dataset, at its folder unless --data moves it.
            var ds = savedOptions is not null && !CommonOptions.Given(r, dataset) && file?["dataset"] is null
                ? DatasetRef.Resolve(savedOptions.Dataset, dataRoot, dataArg ?? savedOptions.DataPath, coarseLabels)
                : DatasetRef.Resolve(datasetArg, dataRoot, dataArg, coarseLabels);
            // ImageNet-style images train at 224 px (the mobile network) with the paper recipe, at 64 px (the 64-px
            // network) with the cpu and smoke recipes and on Imagenette, unless --image-size says otherwise.
            // (A file's value that is not a size is refused, naming the file, when the file is applied below.)
            int? sizeArg = r.GetValue(imageSize) ?? (file?["image-size"] is { } fs && int.TryParse(fs.ToString(), CultureInfo.InvariantCulture, out int fileSize) ? fileSize : null);
            int size = sizeArg ?? (presetArg is "cpu" or "smoke" || ds.Kind == DatasetKind.Imagenette ? 64 : 224);
            var kind = networkArg is { } n ? RetrainNetwork.ParseKind(n) : savedOptions?.Network ?? NetworkConfig.DefaultKind(arch.Architecture, ds.IsSmallImage, size);
            string presetName = presetArg ?? kind switch { NetworkKind.ImageNet => "paper-imagenet", NetworkKind.ImageNet64 => "cpu", _ => "paper-cifar" };
            // A resumed run's stop-after was that run's; only one given again stops this one.
            var o = savedOptions is not null ? savedOptions with { StopAfterEpochs = 0 } : TrainPresets.Create(presetName, kind, batchSize);
            // The ImageNet networks train at the size their kind was chosen for (paper-imagenet on Imagenette: the 64-px network at 64 px).
            if (savedOptions is null && RetrainNetwork.IsImageNet(kind) && networkArg is null) o = o with { ImageSize = size };
            // A settings file, then the command line, over the preset (on resume over the run's options: the file's
            // runtime settings apply, as an MPI stage's ranks get theirs; any other change is refused by name).
            if (file is not null)
                o = OptionTable.ApplyText(o, CommonOptions.TableSettings(file, r.GetValue(config)!, "genotype", "network", "dataset", "data", "coarse-labels", "preset", "batch-size", "max-madds", "device"), r.GetValue(config)!);
            o = settings.Apply(r, o) with
            {
                Dataset = ds.Name, DataPath = dataArg is { } given ? Path.GetFullPath(given) : o.DataPath, Network = kind, CoarseLabels = ds.Coarse,
                MaxMultiplyAdds = maddsArg is { } mm ? (long)(CommonOptions.ParseNumber(mm, "--max-madds")!.Value * 1e6) : o.MaxMultiplyAdds,
                Device = CommonOptions.Pick(r, device, file) ?? o.Device,
            };
            if (format is not null)
            {
                io.Out.Write(SettingsFile.Write(SettingsFile.Of(o, arch.Architecture.Text), format));
                return S2dApp.Success;
            }
            o.Validate(); // bad settings are refused before the run folder is touched
            var compute = Compute.Resolve(o.Device, o.Threads);
            using var stop = SignalStop.Create(io, "the run");
            using var lease = MpiLaunch.LeaseRunFolder(sync, io, dir, "train", r.GetValue(force));
            using var log = MpiLaunch.OpenRunLog(sync, io, dir, TrainRunFolder.Log);
            try
            {
                new TrainRunner(o, arch, ds, dir, log, compute) { Sync = sync }.Run(r.GetValue(resume), stop.Token);
            }
            catch (DivergedException e)
            {
                log.WriteLine($"error: {e.Message}", io.Err); // standard error and the run's log.txt
                return S2dApp.Failure;
            }
            return S2dApp.Success;
        }));
        return cmd;
    }
}
