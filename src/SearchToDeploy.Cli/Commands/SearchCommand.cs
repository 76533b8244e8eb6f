using System.CommandLine;
using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Core.Optim;
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
        var outDir = new Option<string>("--out") { Description = "Run folder (runs/<name>)", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its last checkpoint, with the settings it was started with (options given again override runtime ones; others must match)" };
        var force = new Option<bool>("--force") { Description = "Delete an existing run in --out and start over" };

        var device = CommonOptions.Device();
        foreach (var o in new Option[] { space, method, dataset, root, data, preset, outDir, resume, force, device }) cmd.Options.Add(o);
        // Every other setting: the options SearchOptions declares, with their names, descriptions and ranges.
        var settings = new OptionBinder<SearchOptions>(cmd);

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
            o = settings.Apply(r, o) with
            {
                Dataset = CommonOptions.Given(r, dataset) ? r.GetValue(dataset)! : o.Dataset,
                DataPath = r.GetValue(data) is { } given ? Path.GetFullPath(given) : o.DataPath,
                Device = r.GetValue(device) ?? o.Device,
            };
            if (saved is null && !CommonOptions.Given(r, settings["--nb201-table"])) o = o with { Nb201Table = DefaultTable(dataRoot) };
            var ds = DatasetRef.Resolve(o.Dataset, dataRoot, o.DataPath);
            RunFolder.Prepare(dir, "search", clear: r.GetValue(force));
            using var log = new RunLog(io.Out, Path.Combine(dir, SearchRunFolder.Log));
            try
            {
                new SearchRunner(o, ds, dir, log).Run(r.GetValue(resume));
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
