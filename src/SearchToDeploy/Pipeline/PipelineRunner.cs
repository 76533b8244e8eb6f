using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Export;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Deploy.Validation;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Reporting;
using SearchToDeploy.Runs;
using SearchToDeploy.Runs.Search;
using SearchToDeploy.Runs.Training;

namespace SearchToDeploy.Pipeline;

/// <summary>
/// The Deploy chain, one stage at a time, each in runs/&lt;run&gt;/&lt;stage&gt;/ with a manifest. A stage whose manifest
/// matches its configuration and inputs is skipped; an interrupted one resumes from its checkpoint (search, train);
/// one whose configuration changed starts over (a search whose cell selection alone changed selects again from its
/// supernet); <c>force</c> redoes it. Package copies the model into
/// models/&lt;run&gt;/ only when validation passed every gate; otherwise it fails and writes nothing there.
/// </summary>
public sealed class PipelineRunner(PipelineProfile profile, PipelineInputs inputs, string runDir, string modelsDir, TextWriter log)
{
    public static readonly IReadOnlyList<Stage> All = [Stage.Search, Stage.Train, Stage.Export, Stage.Validate, Stage.Package];
    private readonly string _run = Path.GetFullPath(runDir);
    private readonly string _models = Path.GetFullPath(modelsDir);

    public string RunName => Path.GetFileName(_run);
    public string StageDir(Stage s) => Path.Combine(_run, s.ToString().ToLowerInvariant());
    public string PackageDir => Path.Combine(_models, RunName);

    public static Stage ParseStage(string name) => Enum.TryParse<Stage>(name, ignoreCase: true, out var s)
        ? s : throw new InputException($"--stage '{name}': expected one of {string.Join(", ", All.Select(x => x.ToString().ToLowerInvariant()))}");

    /// <summary>Runs the stages up to and including <paramref name="last"/>, skipping those that are up to date.</summary>
    public void RunThrough(Stage last, bool force = false, CancellationToken cancel = default)
    {
        foreach (var s in All)
        {
            Run(s, force, cancel);
            if (s == last) break;
        }
    }

    public void Run(Stage stage, bool force = false, CancellationToken cancel = default)
    {
        string dir = StageDir(stage);
        var (config, checkpointConfig, inputsNow) = Describe(stage);
        string configJson = JsonSerializer.Serialize(config, StageManifest.Json);
        string hash = StageManifest.HashText(configJson);
        var manifest = StageManifest.TryLoad(dir);
        string name = stage.ToString().ToLowerInvariant();
        if (!force && manifest is { Status: "complete" } && manifest.IsUpToDate(dir, hash, inputsNow))
        {
            log.WriteLine($"[{name}] up to date ({dir}); skipped");
            return;
        }
        // A stage whose checkpoint fits (same inputs, same configuration where the checkpoint depends on it) resumes from
        // it: an interrupted one, or one whose configuration changed only elsewhere (a search's cell selection: it selects
        // again from its supernet). Anything else starts over.
        string checkpoint = ReferenceEquals(checkpointConfig, config) ? hash : StageManifest.HashText(JsonSerializer.Serialize(checkpointConfig, StageManifest.Json));
        bool fits = !force && manifest is not null && (manifest.CheckpointHash ?? manifest.ConfigHash) == checkpoint &&
                    manifest.Inputs.Count == inputsNow.Count && inputsNow.All(kv => manifest.Inputs.GetValueOrDefault(kv.Key) == kv.Value);
        bool reuse = fits && manifest!.ConfigHash != hash;
        bool resume = reuse || fits && manifest is { Status: "running" or "failed" };
        RunFolder.Prepare(dir, $"stage {name}", clear: !resume, option: "stage folder");
        var started = DateTime.UtcNow;
        var record = new StageManifest
        {
            Stage = name, Profile = profile.Name, Status = "running", ConfigHash = hash, Config = JsonDocument.Parse(configJson).RootElement.Clone(),
            CheckpointHash = checkpoint == hash ? null : checkpoint, Inputs = new(inputsNow), Versions = Versions(),
            SourceCommit = StageManifest.SourceCommitOf(Environment.CurrentDirectory) ?? StageManifest.SourceCommitOf(AppContext.BaseDirectory),
            Started = started.ToString("o", CultureInfo.InvariantCulture),
        };
        if (!resume) record.Save(dir);
        // Only the search's checkpoint leaves part of its configuration out (the cell selection), so only it reuses.
        log.WriteLine(!reuse ? $"[{name}] {(resume ? "resuming" : "running")} into {dir}"
            : $"[{name}] the same supernet, another cell selection ({profile.Search.Selection}): selecting again from its checkpoint in {dir}");
        var watch = Stopwatch.StartNew();
        IReadOnlyList<string> outputs;
        try { outputs = Execute(stage, dir, resume, cancel); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The manifest says what happened; a rerun with the same configuration resumes from the stage's checkpoint.
            (record with { Status = "failed", Error = Core.Torch.NativeErrors.Message(e), Finished = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
                Seconds = Math.Round(watch.Elapsed.TotalSeconds, 1) }).Save(dir);
            throw;
        }
        (record with
        {
            Status = "complete", Outputs = outputs.ToDictionary(o => o, o => StageManifest.HashFile(Path.Combine(dir, o))),
            Finished = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture), Seconds = Math.Round(watch.Elapsed.TotalSeconds, 1),
        }).Save(dir);
        log.WriteLine($"[{stage.ToString().ToLowerInvariant()}] done in {ProgressMeter.FormatDuration(watch.Elapsed)}");
    }

    /// <summary>
    /// A stage's configuration (what decides its result), the part of it its checkpoint depends on (the same object
    /// where that is all of it) and its inputs' hashes.
    /// </summary>
    private (object Config, object Checkpoint, Dictionary<string, string> Inputs) Describe(Stage stage)
    {
        if (stage == Stage.Search)
        {
            var searchData = DatasetRef.Resolve(profile.Search.Dataset, inputs.DataRoot, profile.Search.DataPath);
            var supernet = SearchConfig();
            return (Selected(supernet), supernet, new() { ["dataset"] = StageManifest.FingerprintFolder(searchData.Location) });
        }
        var (config, inputsNow) = DescribeAfterSearch(stage);
        return (config, config, inputsNow);
    }

    /// <summary>The configuration and inputs of a stage after the search, whose checkpoint depends on all of its configuration.</summary>
    private (object Config, Dictionary<string, string> Inputs) DescribeAfterSearch(Stage stage) =>
        stage switch
        {
            Stage.Train => (Ranked(new { options = CheckpointFile.ComparableOptions(typeof(TrainOptions), TrainRunner.OptionsJson(profile.Train)) }),
                new() { ["architecture"] = StageManifest.HashText(Genotype().Architecture.Text), ["dataset"] = StageManifest.FingerprintFolder(profile.TrainData.Location) }),
            Stage.Export => (new { keep_batch_norm = false, tolerance = ModelExporter.Tolerance },
                new() { ["checkpoint"] = HashOf(Stage.Train, TrainRunFolder.Best) }),
            Stage.Validate => (new { dataset = profile.TrainData.Location, gate_top1 = profile.GateTop1, gate_top5 = profile.GateTop5, max_images = profile.ValidateMaxImages },
                new() { ["model"] = HashOf(Stage.Export, PackageFolder.Model), ["dataset"] = StageManifest.FingerprintFolder(profile.TrainData.Location) }),
            _ => (new { models = _models, gate_top1 = profile.GateTop1, gate_top5 = profile.GateTop5 },
                new() { ["model"] = HashOf(Stage.Export, PackageFolder.Model), ["report"] = HashOf(Stage.Validate, PackageFolder.Validation) }),
        };

    /// <summary>What the search stage's supernet depends on: its options (runtime settings aside) and the number of MPI ranks.</summary>
    private object SearchConfig() =>
        Ranked(new { options = CheckpointFile.ComparableOptions(typeof(SearchOptions), SearchRunner.OptionsJson(profile.Search)) });

    /// <summary>
    /// The search stage's configuration with how its cell is selected: a runtime setting to the search itself (a finished
    /// search may select again), but it decides the stage's genotype. Left out for alpha, so manifests written before the
    /// setting existed still match.
    /// </summary>
    private object Selected(object config) =>
        profile.Search.Selection == CellSelection.Alpha ? config : new { config, selection = profile.Search.Selection, selection_images = profile.Search.SelectionImages };

    /// <summary>A search or training stage's configuration; with MPI ranks, their number too (each rank's share of a batch changes the result).</summary>
    private object Ranked(object config) => inputs.Ranks > 1 ? new { config, ranks = inputs.Ranks } : config;

    private IReadOnlyList<string> Execute(Stage stage, string dir, bool resume, CancellationToken cancel)
    {
        switch (stage)
        {
            case Stage.Search:
            {
                var data = DatasetRef.Resolve(profile.Search.Dataset, inputs.DataRoot, profile.Search.DataPath);
                string table = Path.Combine(inputs.DataRoot, "nas-bench-201", "accuracy.tsv");
                var o = profile.Search with { Nb201Table = profile.Search.Nb201Table ?? (File.Exists(table) ? table : null) };
                if (inputs.Ranks > 1) MpiStage.Run(inputs, "search", SettingsFile.Of(o), dir, resume, log, cancel);
                else
                {
                    using var runLog = new RunLog(log, Path.Combine(dir, SearchRunFolder.Log));
                    new SearchRunner(o, data, dir, runLog, Compute.Resolve(o.Device, o.Threads)).Run(resume, cancel);
                }
                return [SearchRunFolder.Genotype, SearchRunFolder.Summary];
            }
            case Stage.Train:
            {
                if (inputs.Ranks > 1)
                {
                    _ = Genotype(); // a clear error when the Search stage has not run
                    MpiStage.Run(inputs, "train", SettingsFile.Of(profile.Train, Path.Combine(StageDir(Stage.Search), GenotypeFile.FileName)), dir, resume, log, cancel);
                }
                else
                {
                    using var runLog = new RunLog(log, Path.Combine(dir, TrainRunFolder.Log));
                    new TrainRunner(profile.Train, Genotype(), profile.TrainData, dir, runLog, Compute.Resolve(profile.Train.Device, profile.Train.Threads)).Run(resume, cancel);
                }
                return [TrainRunFolder.Best, TrainRunFolder.MetricsJson];
            }
            case Stage.Export:
                ModelExporter.Export(StageDir(Stage.Train), Path.Combine(dir, PackageFolder.Model), log, images: profile.TrainData.Open(Split.Test));
                return [PackageFolder.Model];
            case Stage.Validate:
            {
                using var model = new DeployedModel(Path.Combine(StageDir(Stage.Export), PackageFolder.Model), OnnxExecutionProvider.Auto, inputs.Threads);
                var report = Validator.Run(model, profile.TrainData.Open(Split.Test), $"{profile.TrainData.Name} ({profile.TrainData.Location})", 100,
                    profile.ValidateMaxImages, profile.GateTop1, profile.GateTop5, log);
                Validator.WriteAndGate(report, Path.Combine(dir, PackageFolder.Validation), log, Path.Combine(dir, JUnitReport.FileName));
                return [PackageFolder.Validation, JUnitReport.FileName];
            }
            default:
                // The package lives in models/<run>/; its manifest names it relative to the stage folder, so a deleted
                // or replaced package makes the stage out of date like any other output.
                return [.. Package().Select(f => Path.GetRelativePath(dir, Path.Combine(PackageDir, f)))];
        }
    }

    /// <summary>Writes models/&lt;run&gt;/ atomically (a staging folder, then a rename); returns the names of its files.</summary>
    private IReadOnlyList<string> Package()
    {
        string reportPath = Path.Combine(StageDir(Stage.Validate), PackageFolder.Validation);
        var report = JsonSerializer.Deserialize<ValidationReport>(File.ReadAllText(reportPath), ValidationReport.Json)!;
        if (!report.Passed || report.GateTop1 != profile.GateTop1 || report.GateTop5 != profile.GateTop5)
            throw new GateFailedException($"{reportPath}: the model did not pass the gates top-1 >= {profile.GateTop1}%, top-5 >= {profile.GateTop5}%; nothing is packaged");
        string staging = Path.Combine(_models, $".{RunName}.{Guid.NewGuid():N}.tmp");
        RunFolder.Prepare(staging, "package", clear: false);
        string[] files;
        try
        {
            var train = new TrainRunFolder(StageDir(Stage.Train));
            var search = new SearchRunFolder(StageDir(Stage.Search));
            var package = new PackageFolder(staging);
            File.Copy(Path.Combine(StageDir(Stage.Export), PackageFolder.Model), package[PackageFolder.Model]);
            File.Copy(reportPath, package[PackageFolder.Validation]);
            // The genotype as the model carries it, with the packaging's provenance: which chain made it and what it passed.
            var carried = ModelMetadata.Read(package[PackageFolder.Model]).Genotype;
            GenotypeFile.Save(package[PackageFolder.Genotype], carried.With("package", new Dictionary<string, object?>
            {
                ["profile"] = profile.Name, ["validated_on"] = report.Dataset.Split(' ')[0], ["images"] = report.Images,
                ["top1"] = Math.Round(report.Top1, 2), ["top5"] = Math.Round(report.Top5, 2), ["gate_top1"] = report.GateTop1, ["gate_top5"] = report.GateTop5,
            }));
            var copies = new (string From, string To)[] { (train[TrainRunFolder.Curves], PackageFolder.TrainingCurves), (train[TrainRunFolder.MetricsJson], PackageFolder.Metrics),
                (search[SearchRunFolder.Curves], PackageFolder.SearchCurves) };
            foreach (var (from, to) in copies.Concat(CellDrawings.SvgFiles.Select(f => (train[f], f))))
                if (File.Exists(from)) File.Copy(from, package[to]);
            File.WriteAllText(package[PackageFolder.Card], ModelCard.Write(RunName, profile, report, package, train));
            files = [.. Directory.GetFiles(staging).Select(f => Path.GetFileName(f)).Where(f => !f.StartsWith('.')).Order(StringComparer.Ordinal)];
            RunFolder.Delete(PackageDir, "package folder", PackageFolder.IsPackage);
            Directory.Move(staging, PackageDir);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
        log.WriteLine($"packaged {PackageDir}: {string.Join(", ", files)} (top-1 {report.Top1:0.00}%, top-5 {report.Top5:0.00}%)");
        return files;
    }

    private GenotypeDocument Genotype()
    {
        string path = Path.Combine(StageDir(Stage.Search), GenotypeFile.FileName);
        if (!File.Exists(path)) throw new InputException($"{path}: no searched genotype yet; run the Search stage first");
        return GenotypeFile.LoadDocument(path);
    }

    private string HashOf(Stage stage, string file)
    {
        string path = Path.Combine(StageDir(stage), file);
        return File.Exists(path) ? StageManifest.HashFile(path) : "missing";
    }


    private static Dictionary<string, string> Versions() => new()
    {
        ["s2d"] = OnnxModelFile.ProducerVersion,
        ["torchsharp"] = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "?",
        ["onnxruntime"] = typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString() ?? "?",
        ["dotnet"] = Environment.Version.ToString(),
    };
}
