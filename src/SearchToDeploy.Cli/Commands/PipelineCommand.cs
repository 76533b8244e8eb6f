using System.CommandLine;
using SearchToDeploy.Data;
using SearchToDeploy.Pipeline;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d pipeline</c>: one stage of the Deploy chain (what the Cake targets call), or the whole chain.</summary>
public static class PipelineCommand
{
    public static Command Create(CliIo io)
    {
        var stage = new Option<string>("--stage") { Description = "search, train, export, validate or package; with --through, every stage up to it (required unless --print-config)" };
        var through = new Option<bool>("--through") { Description = "Run the stages before --stage first (each skipped when up to date)" };
        var profile = new Option<string>("--profile") { Description = $"{string.Join(", ", PipelineProfile.Names)} (see README: cost and settings of each)", DefaultValueFactory = _ => PipelineProfile.Default };
        var run = new Option<string?>("--run") { Description = "Run name: stages go to runs/<run>/<stage>, the package to models/<run> (default: the profile's name, with what sets the chain apart: imagenet-224 with --imagenet, <profile>-<folder> with --transfer, the space and method when not the profile's)" };
        var runs = new Option<string>("--runs") { Description = "Folder of the run folders", DefaultValueFactory = _ => "runs" };
        var models = new Option<string>("--models") { Description = "Folder of the packaged models", DefaultValueFactory = _ => "models" };
        var root = CommonOptions.DataRoot();
        var imagenet = new Option<string?>("--imagenet") { Description = "The full ImageNet: a folder with train/ and val/ (required by --profile paper; with --profile imagenet, retrain on it at 224 px instead of Imagenette at 64 px)" };
        var transfer = new Option<string?>("--transfer") { Description = "Retrain and validate on this image folder (train/ and val/) instead of the profile's data" };
        var gate1 = new Option<double?>("--gate-top1") { Description = "Top-1 gate (%) instead of the profile's" };
        var gate5 = new Option<double?>("--gate-top5") { Description = "Top-5 gate (%) instead of the profile's" };
        var force = new Option<bool>("--force") { Description = "Redo the stage(s) even when up to date" };
        var threads = new Option<int>("--threads") { Description = "Torch and ONNX Runtime threads (0 = all cores)" };
        var device = CommonOptions.Device();
        var space = new Option<string?>("--space") { Description = "Search space instead of the profile's (darts for imagenet, smoke and paper; nas-bench-201 for nb201, and for smoke the nb201 chain)" };
        var method = new Option<string?>("--method") { Description = "Search method instead of rf-pcdarts: rf-darts, pc-darts or darts" };
        var seed = new Option<long?>("--seed") { Description = "Search seed instead of the preset's (2)" };
        var parallel = new Option<bool>("--parallel-steps") { Description = "Search with parallel first-order steps (architecture and weight gradients side by side on two cores; about 1.2x faster)" };
        var withoutNone = new Option<bool>("--derive-without-none") { Description = "NAS-Bench-201: derive the searched cell from the ops other than none" };
        var precision = new Option<string?>("--precision") { Description = "Search activations: fp32 (default) or bf16 (float32 parameters; 1.3-1.7x faster on CPUs with AVX-512 BF16)" };
        var set = new Option<string[]>("--set")
        {
            Description = "Change a setting of the profile's search or retraining: search.<key>=<value> or train.<key>=<value>, keys as the options of s2d search and s2d train " +
                          "(e.g. --set train.epochs=30 --set search.seed=3; several may be joined with ';')",
            AllowMultipleArgumentsPerToken = false,
        };
        var ranks = new Option<int>("--ranks") { Description = "Run the Search and Train stages as MPI jobs of this many data-parallel processes (see README: Scale-out)", DefaultValueFactory = _ => 1 };
        var launcher = new Option<string>("--launcher") { Description = "The command that starts --ranks processes, {ranks} standing for their number (e.g. 'srun --mpi=pmix -n {ranks}')", DefaultValueFactory = _ => PipelineInputs.DefaultLauncher };
        var config = CommonOptions.Config();
        config.Description = "Settings file (JSON, or YAML by its .yaml/.yml extension): the options above by name without dashes, and \"search\" and \"train\" " +
                             "objects of the settings --set changes, e.g. {\"profile\": \"imagenet\", \"train\": {\"epochs\": 30}}; the command line overrides it";
        var print = CommonOptions.PrintConfig();
        var cmd = new Command("pipeline", "Run a stage of the search -> train -> export -> validate -> package chain in runs/<run>/<stage> with a manifest; " +
                                          "up-to-date stages are skipped, interrupted ones resume; package writes models/<run> only when every gate passes");
        foreach (var o in new Option[] { stage, through, profile, run, runs, models, root, imagenet, transfer, gate1, gate5, force, threads, device, space, method, seed, parallel, withoutNone, precision, set, ranks, launcher, config, print }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            var file = CommonOptions.ReadConfig(r, config);
            string? format = CommonOptions.PrintFormat(r, print);
            if (file is not null) CheckKeys(file, r.GetValue(config)!, cmd);
            // The command line, else the settings file, else the option's default.
            string? Text<T>(Option<T> o) => CommonOptions.Pick(r, o, file);
            bool Flag(Option<bool> o) => CommonOptions.Given(r, o) ? r.GetValue(o) : Text(o) is { } t && CommonOptions.ParseFlag(t, r.GetValue(config)!, o.Name);
            // A file's "through" belongs to its stage: a stage named on the command line runs alone unless --through is given.
            bool throughFlag = CommonOptions.Given(r, stage) ? CommonOptions.Given(r, through) && r.GetValue(through) : Flag(through);
            bool forceFlag = Flag(force);
            var s = Text(stage) is { } named ? PipelineRunner.ParseStage(named)
                : format is null ? throw new InputException("--stage: required (search, train, export, validate or package), except with --print-config")
                : Stage.Package;
            // The search and train switches given on the command line come after the file's search and train
            // settings (which --print-config writes in full), then --set: the command line overrides the file.
            string Inv(object v) => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!.ToLowerInvariant();
            var switches = new List<string>();
            if (CommonOptions.Given(r, seed)) switches.Add($"search.seed={Inv(r.GetValue(seed)!)}");
            if (CommonOptions.Given(r, threads)) switches.AddRange([$"search.threads={Inv(r.GetValue(threads))}", $"train.threads={Inv(r.GetValue(threads))}"]);
            if (CommonOptions.Given(r, parallel)) switches.Add($"search.parallel-steps={Inv(r.GetValue(parallel))}");
            if (CommonOptions.Given(r, withoutNone)) switches.Add($"search.derive-without-none={Inv(r.GetValue(withoutNone))}");
            if (CommonOptions.Given(r, precision)) switches.Add($"search.precision={r.GetValue(precision)}");
            var inputs = new PipelineInputs(DataRoot.Resolve(Text(root)), Text(imagenet), Text(transfer), CommonOptions.ParseNumber(Text(gate1), "--gate-top1"),
                CommonOptions.ParseNumber(Text(gate5), "--gate-top5"), (int)(CommonOptions.ParseNumber(Text(threads), "--threads") ?? 0))
            {
                Space = Text(space), Method = Text(method) is { } m ? SearchToDeploy.Nas.Strategies.SearchMethod.Parse(m) : null,
                Seed = CommonOptions.ParseNumber(Text(seed), "--seed") is { } sd ? (long)sd : null,
                ParallelSteps = Flag(parallel), DeriveWithoutNone = Flag(withoutNone), Device = Text(device) ?? "auto",
                Precision = Text(precision) is { } pr ? SearchToDeploy.Core.Torch.Precisions.Parse(pr) : SearchToDeploy.Core.Torch.Precision.Float32,
                // The file's search and train settings first, so that --set on the command line overrides them.
                Ranks = CommonOptions.ParseNumber(Text(ranks), "--ranks") is { } n && n >= 1 && n == Math.Floor(n) ? (int)n
                    : throw new InputException($"--ranks {Text(ranks)}: expected a whole number of processes, 1 or more"),
                Launcher = Text(launcher)!, SelfCommand = CommonOptions.SelfCommand(),
                SettingsSource = file is null ? "--set" : $"{r.GetValue(config)} or --set",
                Settings = [.. FileSettings(file, r.GetValue(config)), .. switches, .. (r.GetValue(set) ?? []).SelectMany(v => v.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
            };
            if (inputs.Ranks > 1) MpiStage.Launcher(inputs.Launcher, inputs.Ranks); // a bad launcher is bad input before any stage runs
            var p = PipelineProfile.Create(Text(profile)!, inputs, openData: format is null); // printing the settings reads no data
            string name = Text(run) ?? PipelineProfile.DefaultRun(p, inputs);
            if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.StartsWith('.'))
                throw new InputException($"--run '{name}': expected a plain folder name");
            if (format is not null)
            {
                var resolved = Resolved(p, inputs);
                resolved["run"] = name; resolved["runs"] = Text(runs); resolved["models"] = Text(models);
                // What to run, so that --config alone repeats it: the stage given, else the whole chain.
                bool whole = Text(stage) is null;
                resolved["stage"] = s.ToString().ToLowerInvariant(); resolved["through"] = whole || throughFlag;
                io.Out.Write(Runs.SettingsFile.Write(resolved, format));
                return S2dApp.Success;
            }
            var runner = new PipelineRunner(p, inputs, Path.Combine(Text(runs)!, name), Text(models)!, io.Out);
            using var stop = SignalStop.Create(io, "the stage");
            bool finished = throughFlag ? runner.RunThrough(s, forceFlag, stop.Token) : runner.Run(s, forceFlag, stop.Token);
            return finished ? S2dApp.Success : S2dApp.Stopped; // stopped: a time-limited run made progress; running again goes on
        }));
        return cmd;
    }

    /// <summary>A pipeline settings file's keys: the command's options by name, and the search and train objects.</summary>
    private static void CheckKeys(System.Text.Json.Nodes.JsonObject file, string source, Command cmd)
    {
        var names = cmd.Options.Select(o => o.Name.TrimStart('-')).Where(n => n is not ("config" or "print-config" or "set" or "help")).Concat(["search", "train"]).ToList();
        foreach (var (key, value) in file)
        {
            if (!names.Contains(key)) throw new InputException($"{source}: unknown setting '{key}'; expected one of {string.Join(", ", names)}");
            if (key is "search" or "train" && value is not System.Text.Json.Nodes.JsonObject)
                throw new InputException($"{source}: '{key}' must be an object of s2d {key} settings, e.g. {{\"epochs\": 30}}");
        }
    }

    /// <summary>The file's search and train objects as --set settings ("search.key=value").</summary>
    private static IEnumerable<string> FileSettings(System.Text.Json.Nodes.JsonObject? file, string? source)
    {
        if (file is null) yield break;
        foreach (string stage in new[] { "search", "train" })
            if (file[stage] is System.Text.Json.Nodes.JsonObject o)
                foreach (var (k, v) in Runs.SettingsFile.Scalars(o, $"{source}: {stage}")) yield return $"{stage}.{k}={v}";
    }

    /// <summary>What the chain will run with: the profile, its data, gates and searched space, and every search and train setting.</summary>
    private static System.Text.Json.Nodes.JsonObject Resolved(PipelineProfile p, PipelineInputs inputs) => new()
    {
        ["profile"] = p.Name, ["data-root"] = inputs.DataRoot, ["imagenet"] = inputs.ImageNet, ["transfer"] = inputs.Transfer,
        ["gate-top1"] = p.GateTop1, ["gate-top5"] = p.GateTop5, ["threads"] = inputs.Threads, ["device"] = inputs.Device, ["ranks"] = inputs.Ranks, ["launcher"] = inputs.Launcher,
        ["space"] = p.Search.Space, ["method"] = p.Search.Method.Name,
        ["search"] = Runs.OptionTable.Settings(p.Search), ["train"] = Runs.OptionTable.Settings(p.Train),
    };
}
