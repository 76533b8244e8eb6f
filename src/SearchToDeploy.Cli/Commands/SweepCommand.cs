using System.CommandLine;
using System.Globalization;
using SearchToDeploy.Data;
using SearchToDeploy.Sweeps;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d sweep</c>: many searches (methods x spaces x datasets x presets x seeds), here or as a Slurm job array; <c>s2d sweep report</c>.</summary>
public static class SweepCommand
{
    public static Command Create(CliIo io)
    {
        Option<string[]> List(string name, string description, string? fallback = null) => new(name)
        {
            Description = description, AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = fallback is null ? null! : _ => [fallback],
        };
        var methods = List("--methods", "Search methods (rf-pcdarts, rf-darts, pc-darts, darts, gdas), comma- or space-separated", "rf-pcdarts");
        var spaces = List("--spaces", "Search spaces (darts, s1-s4, nas-bench-201)", "nas-bench-201");
        var datasets = List("--datasets", "Datasets (cifar10, cifar100, svhn, ...)", "cifar10");
        var presets = List("--presets", "Search presets (paper, cpu, smoke)", "cpu");
        var seeds = List("--seeds", "Seeds: numbers and ranges, e.g. 0-3 or 0,1,7", "0");
        var set = List("--set", "A setting of every search, key=value with the keys of s2d search (e.g. --set epochs=20)");
        var outDir = new Option<string>("--out") { Description = "The sweep folder: one run folder per combination, and sweep.json", Required = true };
        var root = CommonOptions.DataRoot();
        var jobs = new Option<int>("--jobs") { Description = "Searches at a time on this machine", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Torch threads per search (0: the cores shared out among --jobs; with --slurm, the task's CPUs)" };
        var slurm = new Option<bool>("--slurm") { Description = "Do not run: write sweep.sbatch, a Slurm job array of one task per search, to submit with sbatch" };
        var cpus = new Option<int>("--cpus-per-task") { Description = "With --slurm: CPUs per array task", DefaultValueFactory = _ => 4 };
        var concurrent = new Option<int>("--max-concurrent") { Description = "With --slurm: at most this many tasks at once (the array's %limit; 0: no limit)" };
        var sbatch = List("--sbatch", "With --slurm: extra #SBATCH options, e.g. --sbatch=--partition=gpu --sbatch=--time=04:00:00");
        var cmd = new Command("sweep", "Run every combination of methods, spaces, datasets, presets and seeds as an ordinary resumable search run, " +
                                       "here (--jobs at a time) or as a Slurm job array (--slurm); s2d sweep report tabulates them");
        foreach (var o in new Option[] { methods, spaces, datasets, presets, seeds, set, outDir, root, jobs, threads, slurm, cpus, concurrent, sbatch }) cmd.Options.Add(o);
        cmd.SetAction((r, cancel) => Task.FromResult(io.Guard(() =>
        {
            string dir = Path.GetFullPath(r.GetValue(outDir)!), dataRoot = DataRoot.Resolve(r.GetValue(root));
            int j = r.GetValue(jobs), t = r.GetValue(threads), c = r.GetValue(cpus), mc = r.GetValue(concurrent);
            // --jobs, --threads, --cpus-per-task and --max-concurrent are range-checked at parse time (OptionRanges).
            CommonOptions.OnlyWith(r, r.GetValue(slurm), "--slurm", cpus, concurrent, sbatch);
            if (r.GetValue(slurm) && CommonOptions.Given(r, jobs)) throw new InputException("--jobs: applies without --slurm (with --slurm, Slurm runs the tasks; --max-concurrent limits them)");
            var settings = Words(r.GetValue(set)).Select(s => s.IndexOf('=') is int eq and > 0 ? new KeyValuePair<string, string>(s[..eq], s[(eq + 1)..])
                : throw new InputException($"--set '{s}': expected key=value with a key of s2d search")).ToList();
            var plan = SweepPlan.Create(Words(r.GetValue(methods)), Words(r.GetValue(spaces)), Words(r.GetValue(datasets)), Words(r.GetValue(presets)),
                Seeds(Words(r.GetValue(seeds))), settings, dataRoot);
            plan.Write(dir);
            var self = CommonOptions.SelfCommand();
            if (r.GetValue(slurm))
            {
                string script = Path.Combine(dir, SlurmScript.FileName);
                Core.Io.AtomicFile.WriteAllText(script, SlurmScript.Create(plan, dir, dataRoot, self, c, mc, Words(r.GetValue(sbatch)), t));
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, File.GetUnixFileMode(script) | UnixFileMode.UserExecute);
                io.Out.WriteLine($"wrote {script}: {plan.Runs.Count} array tasks; submit with: sbatch {script}");
                io.Out.WriteLine($"then: s2d sweep report {dir}");
                return S2dApp.Success;
            }
            int perJob = t > 0 ? t : Math.Max(1, Environment.ProcessorCount / j);
            var failed = SweepRunner.Run(plan, dir, dataRoot, self, j, perJob, io.Out, cancel);
            io.Out.Write(SweepReport.Markdown(dir));
            if (failed.Count > 0)
            {
                io.Err.WriteLine($"error: {failed.Count} of {plan.Runs.Count} searches failed ({string.Join(", ", failed)}); running the sweep again continues them");
                return S2dApp.Failure;
            }
            return S2dApp.Success;
        })));

        var folder = new Argument<string>("sweep") { Description = "The sweep folder (s2d sweep --out)" };
        var output = new Option<string?>("--output") { Description = "Also write the report to this Markdown file" };
        var report = new Command("report", "Per method, space, dataset and preset: the cells found, NAS-Bench-201 accuracies (mean ± sd over seeds), search hours; then each run");
        report.Arguments.Add(folder);
        report.Options.Add(output);
        report.SetAction(r => io.Guard(() =>
        {
            string markdown = SweepReport.Markdown(r.GetValue(folder)!);
            io.Out.Write(markdown);
            if (r.GetValue(output) is { } path) Core.Io.AtomicFile.WriteAllText(path, markdown);
            return S2dApp.Success;
        }));
        cmd.Subcommands.Add(report);
        return cmd;
    }

    /// <summary>The values of a list option, split at commas.</summary>
    private static List<string> Words(string[]? values) =>
        [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    /// <summary>Seeds from "3", "0-3" and the like.</summary>
    internal static List<long> Seeds(IEnumerable<string> words)
    {
        var seeds = new List<long>();
        foreach (string w in words)
        {
            int dash = w.IndexOf('-', 1);
            if (dash > 0 && long.TryParse(w[..dash], CultureInfo.InvariantCulture, out long a) && long.TryParse(w[(dash + 1)..], CultureInfo.InvariantCulture, out long b) && b >= a && b - a < 10_000)
                for (long s = a; s <= b; s++) seeds.Add(s);
            else if (long.TryParse(w, CultureInfo.InvariantCulture, out long s1)) seeds.Add(s1);
            else throw new InputException($"--seeds '{w}': expected a number or a range like 0-3");
        }
        return seeds;
    }
}
