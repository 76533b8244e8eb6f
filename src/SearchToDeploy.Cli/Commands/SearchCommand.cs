using System.CommandLine;
using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
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
        var outDir = new Option<string>("--out") { Description = "Run folder (runs/<name>); required unless --print-config" };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint, with the settings it was started with (options given again override runtime ones; others must match)" };
        var force = new Option<bool>("--force") { Description = "Start over in an --out that holds a run: the earlier run is kept aside until the new one ends, then deleted if the new one wrote a checkpoint, else put back" };

        var device = CommonOptions.Device();
        var config = CommonOptions.Config();
        var print = CommonOptions.PrintConfig();
        foreach (var o in new Option[] { space, method, dataset, root, data, preset, outDir, resume, force, device, config, print }) cmd.Options.Add(o);
        // Every other setting: the options SearchOptions declares, with their names, descriptions and ranges.
        var settings = new OptionBinder<SearchOptions>(cmd);

        cmd.SetAction(r => MpiLaunch.Guard(io, (sync, io) =>
        {
            var file = CommonOptions.ReadConfig(r, config);
            string? format = CommonOptions.PrintFormat(r, print);
            string dir = r.GetValue(outDir) ?? (format is null ? throw new InputException("--out: required (the run folder), except with --print-config") : "");
            string spaceName = CommonOptions.Pick(r, space, file)!, presetName = CommonOptions.Pick(r, preset, file)!, datasetName = CommonOptions.Pick(r, dataset, file)!;
            var m = SearchMethod.Parse(CommonOptions.Pick(r, method, file)!);
            if (r.GetValue(resume) && r.GetValue(force))
                throw new InputException("--resume and --force: --resume continues the run in --out, --force starts it over; give one");
            if (format is null && dir.Length > 0) MpiLaunch.SettleRunFolder(sync, io, dir); // what an interrupted --force left, before the run is read
            // Resuming starts from the run's own options.json: only what is given again (runtime settings such as
            // --threads, or a change the checkpoint then refuses by name) overrides it.
            var saved = r.GetValue(resume) ? SearchRunner.SavedOptions(dir) : null;
            if (saved is not null)
                CommonOptions.RefuseChangeOnResume(r, Path.Combine(dir, CheckpointFile.OptionsFileName), (space, SearchSpaces.Get(spaceName).Name, saved.SearchSpace.Name),
                    (method, m.Name, saved.Method.Name), (preset, presetName, saved.Preset), (dataset, DatasetRef.CanonicalName(datasetName), DatasetRef.CanonicalName(saved.Dataset)));
            var o = saved ?? SearchPresets.Create(presetName, spaceName, m);
            string dataRoot = DataRoot.Resolve(r.GetValue(root));
            // A settings file, then the command line, over the preset (on resume over the run's options: the file's
            // runtime settings apply, as an MPI stage's ranks get theirs; any other change is refused by name).
            if (file is not null)
                o = OptionTable.ApplyText(o, CommonOptions.TableSettings(file, r.GetValue(config)!, "space", "method", "preset", "dataset", "data", "device"), r.GetValue(config)!);
            o = settings.Apply(r, o) with
            {
                Dataset = saved is null || CommonOptions.Given(r, dataset) ? datasetName : o.Dataset,
                DataPath = CommonOptions.Pick(r, data, file) is { } given ? Path.GetFullPath(given) : o.DataPath,
                Device = CommonOptions.Pick(r, device, file) ?? o.Device,
            };
            if (saved is null && !CommonOptions.Given(r, settings["--nb201-table"]) && file?["nb201-table"] is null) o = o with { Nb201Table = DefaultTable(dataRoot) };
            if (format is not null)
            {
                io.Out.Write(SettingsFile.Write(SettingsFile.Of(o), format));
                return S2dApp.Success;
            }
            o.Validate(); // bad settings are refused before the run folder is touched
            var ds = DatasetRef.Resolve(o.Dataset, dataRoot, o.DataPath);
            var compute = Compute.Resolve(o.Device, o.Threads);
            using var stop = SignalStop.Create(io, "the run");
            using var lease = MpiLaunch.LeaseRunFolder(sync, io, dir, "search", r.GetValue(force));
            using var log = MpiLaunch.OpenRunLog(sync, io, dir, SearchRunFolder.Log);
            try
            {
                new SearchRunner(o, ds, dir, log, compute) { Sync = sync }.Run(r.GetValue(resume), stop.Token);
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

    private static string? DefaultTable(string dataRoot)
    {
        string p = Path.Combine(dataRoot, "nas-bench-201", "accuracy.tsv");
        return File.Exists(p) ? p : null;
    }
}
