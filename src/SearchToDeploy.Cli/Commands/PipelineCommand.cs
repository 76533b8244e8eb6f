using System.CommandLine;
using SearchToDeploy.Data;
using SearchToDeploy.Pipeline;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d pipeline</c>: one stage of the Deploy chain (what the Cake targets call), or the whole chain.</summary>
public static class PipelineCommand
{
    public static Command Create(CliIo io)
    {
        var stage = new Option<string>("--stage") { Description = "search, train, export, validate or package; with --through, every stage up to it", Required = true };
        var through = new Option<bool>("--through") { Description = "Run the stages before --stage first (each skipped when up to date)" };
        var profile = new Option<string>("--profile") { Description = $"{string.Join(", ", PipelineProfile.Names)} (see README: cost and settings of each)", DefaultValueFactory = _ => PipelineProfile.Default };
        var run = new Option<string?>("--run") { Description = "Run name: stages go to runs/<run>/<stage>, the package to models/<run> (default: the profile's name)" };
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
        var cmd = new Command("pipeline", "Run a stage of the search -> train -> export -> validate -> package chain in runs/<run>/<stage> with a manifest; " +
                                          "up-to-date stages are skipped, interrupted ones resume; package writes models/<run> only when every gate passes");
        foreach (var o in new Option[] { stage, through, profile, run, runs, models, root, imagenet, transfer, gate1, gate5, force, threads, device, space, method, seed, parallel, withoutNone, precision, set }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            var s = PipelineRunner.ParseStage(r.GetValue(stage)!);
            var inputs = new PipelineInputs(DataRoot.Resolve(r.GetValue(root)), r.GetValue(imagenet), r.GetValue(transfer), r.GetValue(gate1), r.GetValue(gate5), r.GetValue(threads))
            {
                Space = r.GetValue(space), Method = r.GetValue(method) is { } m ? SearchToDeploy.Nas.Strategies.SearchMethod.Parse(m) : null, Seed = r.GetValue(seed),
                ParallelSteps = r.GetValue(parallel), DeriveWithoutNone = r.GetValue(withoutNone), Device = r.GetValue(device) ?? "auto",
                Precision = r.GetValue(precision) is { } pr ? SearchToDeploy.Core.Torch.Precisions.Parse(pr) : SearchToDeploy.Core.Torch.Precision.Float32,
                Settings = [.. (r.GetValue(set) ?? []).SelectMany(v => v.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))],
            };
            var p = PipelineProfile.Create(r.GetValue(profile)!, inputs);
            string name = r.GetValue(run) ?? p.Name;
            if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.StartsWith('.'))
                throw new InputException($"--run '{name}': expected a plain folder name");
            var runner = new PipelineRunner(p, inputs, Path.Combine(r.GetValue(runs)!, name), r.GetValue(models)!, io.Out);
            if (r.GetValue(through)) runner.RunThrough(s, r.GetValue(force));
            else runner.Run(s, r.GetValue(force));
            return S2dApp.Success;
        }));
        return cmd;
    }
}
