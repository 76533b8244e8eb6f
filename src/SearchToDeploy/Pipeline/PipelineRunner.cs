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
/// supernet; a search or training keeps its earlier run aside until the new one has a checkpoint:
/// <see cref="StageReplacement"/>); <c>force</c> redoes it. Package copies the model into
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

    /// <summary>
    /// Runs the stages up to and including <paramref name="last"/>, skipping those that are up to date; stops early after
    /// a stage that stopped before its end (a training's <c>stop-after</c>), and then returns false.
    /// </summary>
    public bool RunThrough(Stage last, bool force = false, CancellationToken cancel = default)
    {
        // One lock for the whole chain: no other pipeline changes a stage between two of this one's.
        using var held = LockRun();
        // Each stage here runs right after the ones before it completed or were found up to date: no need to check them again.
        foreach (var s in All)
        {
            if (!Run(s, force, cancel, checkEarlier: false)) return false;
            if (s == last) break;
        }
        return true;
    }

    /// <summary>
    /// Runs one stage; false when it stopped before its end (a training's <c>stop-after</c>: its manifest says
    /// "stopped" and the next run resumes it). Every stage before it must be complete and up to date.
    /// </summary>
    public bool Run(Stage stage, bool force = false, CancellationToken cancel = default)
    {
        using var held = LockRun();
        return Run(stage, force, cancel, checkEarlier: true);
    }

    /// <summary>One pipeline at a time in a run: a second would redo or delete the stages the first is writing.</summary>
    private FileStream LockRun() => RunFolder.Lock(_run, _run, "--run");

    private bool Run(Stage stage, bool force, CancellationToken cancel, bool checkEarlier)
    {
        cancel.ThrowIfCancellationRequested(); // stopped between stages: the next one does not start
        if (checkEarlier) RequireEarlierStages(stage);
        string dir = StageDir(stage);
        string name = stage.ToString().ToLowerInvariant();
        StageReplacement.Settle(dir, log, name); // what a killed redo left, before the stage's manifest is read
        var (config, checkpointConfig, inputsNow) = Describe(stage);
        string configJson = JsonSerializer.Serialize(config, StageManifest.Json);
        string hash = StageManifest.HashText(configJson);
        string checkpoint = ReferenceEquals(checkpointConfig, config) ? hash : StageManifest.HashConfig(checkpointConfig);
        var manifest = LoadManifest(stage, hash, checkpoint);
        if (!force && manifest?.IsUpToDate(dir, hash, inputsNow) == true)
        {
            log.WriteLine($"[{name}] up to date ({dir}); skipped");
            return true;
        }
        // Bad settings are refused before the stage's folder is touched.
        if (stage == Stage.Search) profile.Search.Validate();
        if (stage == Stage.Train) profile.Train.Validate();
        // A stage whose checkpoint fits (same inputs, same configuration where the checkpoint depends on it) resumes from
        // it: an interrupted or stopped one, one whose configuration changed only elsewhere (a search's cell selection: it
        // selects again from its supernet), or a finished one whose outputs its checkpoint writes again. Anything else
        // starts over.
        bool fits = !force && manifest is not null && (manifest.CheckpointHash ?? manifest.ConfigHash) == checkpoint && manifest.HasInputs(inputsNow);
        bool reuse = fits && manifest!.ConfigHash != hash;
        bool resume = reuse || fits && (manifest!.Status != "complete" || RewritesOutputs(stage, dir, manifest));
        RequireData(stage, inputsNow);
        // A search or training started over keeps its earlier run aside until the new one has a checkpoint; the other
        // stages' outputs are quick to make again.
        bool keepAside = !resume && stage is Stage.Search or Stage.Train && Directory.Exists(dir) && RunFolder.RunEntries(dir).Any();
        if (keepAside) StageReplacement.Begin(dir);
        RunFolder.Prepare(dir, $"stage {name}", clear: !resume && !keepAside, option: "stage folder");
        var started = DateTime.UtcNow;
        var record = new StageManifest
        {
            Stage = name, Profile = profile.Name, Status = "running", ConfigHash = hash, Config = JsonDocument.Parse(configJson).RootElement.Clone(),
            CheckpointHash = checkpoint == hash ? null : checkpoint, Inputs = new(inputsNow), Versions = Versions(),
            // The s2d that runs: its own folder's repository first (the working directory may be another repository).
            SourceCommit = StageManifest.SourceCommitOf(AppContext.BaseDirectory) ?? StageManifest.SourceCommitOf(Environment.CurrentDirectory),
            Started = started.ToString("o", CultureInfo.InvariantCulture),
        };
        if (!resume) record.Save(dir);
        // Only the search's checkpoint leaves part of its configuration out (the cell selection), so only it reuses.
        log.WriteLine(!reuse ? $"[{name}] {(resume ? "resuming" : "running")} into {dir}"
            : $"[{name}] the same supernet, another cell selection ({profile.Search.Selection}): selecting again from its checkpoint in {dir}");
        var watch = Stopwatch.StartNew();
        IReadOnlyList<string>? outputs;
        try
        {
            // In-process, the stage holds its folder as search and train commands hold theirs; an MPI job's rank 0 takes it.
            using (inputs.Ranks > 1 && stage is Stage.Search or Stage.Train ? null : RunFolder.Lock(Path.GetFullPath(dir), dir, "stage folder"))
                outputs = Execute(stage, dir, resume, cancel);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The manifest says what happened; a rerun with the same configuration resumes from the stage's checkpoint.
            (record with { Status = "failed", Error = Core.Torch.NativeErrors.Message(e), Finished = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
                Seconds = Math.Round(watch.Elapsed.TotalSeconds, 1) }).Save(dir);
            throw;
        }
        finally
        {
            // A process still writing the folder (an MPI rank that outlived its launcher) leaves the earlier run kept for a
            // later settle; said here, so that the stage's own error (or stop) is the one that ends the command.
            if (keepAside)
                try { StageReplacement.Settle(dir, log, name); }
                catch (InputException e) { log.WriteLine($"[{name}] {e.Message}; the earlier run stays in {StageReplacement.KeptDir(dir)} until a later run settles it"); }
        }
        if (outputs is null)
        {
            (record with { Status = "stopped", Finished = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture), Seconds = Math.Round(watch.Elapsed.TotalSeconds, 1) }).Save(dir);
            log.WriteLine($"[{name}] stopped before its end ({Progress(stage)}); run it again to go on");
            return false;
        }
        (record with
        {
            Status = "complete", Outputs = outputs.ToDictionary(o => o, o => StageManifest.HashFile(Path.Combine(dir, o))),
            Finished = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture), Seconds = Math.Round(watch.Elapsed.TotalSeconds, 1),
        }).Save(dir);
        log.WriteLine($"[{name}] done in {ProgressMeter.FormatDuration(watch.Elapsed)}");
        return true;
    }

    /// <summary>
    /// Refuses to run a stage on what an earlier stage left missing, unfinished or out of date (run alone with
    /// <c>--stage</c>, a stage would otherwise package a model that was never validated, or export a stopped training).
    /// A validation that failed its gates is a <see cref="GateFailedException"/>, as packaging it would be.
    /// </summary>
    private void RequireEarlierStages(Stage stage)
    {
        foreach (var s in All.TakeWhile(s => s != stage))
        {
            string dir = StageDir(s), name = s.ToString().ToLowerInvariant();
            StageReplacement.Settle(dir, log, name);
            var (config, checkpointConfig, inputsNow) = Describe(s);
            string hash = StageManifest.HashConfig(config);
            var m = LoadManifest(s, hash, ReferenceEquals(checkpointConfig, config) ? hash : StageManifest.HashConfig(checkpointConfig));
            if (m is not null && m.IsUpToDate(dir, hash, inputsNow)) continue;
            string state = m is null ? "has not run"
                : m.ConfigHash != hash || !m.HasInputs(inputsNow) ? "is out of date (its configuration or inputs changed since it ran)"
                : m.Status switch
                {
                    "complete" => "is out of date (its outputs changed since it ran)",
                    "stopped" => $"stopped before its end ({Progress(s)})",
                    "failed" => $"failed ({m.Error})",
                    _ => "is unfinished (interrupted)",
                };
            string message = $"{dir}: the {name} stage {state}; the {stage.ToString().ToLowerInvariant()} stage runs only after it is complete: " +
                             $"run it first (s2d pipeline --stage {stage.ToString().ToLowerInvariant()} --through runs every stage up to it)";
            if (s == Stage.Validate && m is { Status: "failed" } && state.StartsWith("failed", StringComparison.Ordinal) && ReportFailedGates(Path.Combine(dir, PackageFolder.Validation)))
                throw new GateFailedException($"{message}; nothing is packaged");
            throw new InputException(message);
        }
    }

    /// <summary>
    /// A stage's manifest; one written before stage configurations left out where the data is (a dataset moved, or
    /// copied to a node's own disk, is the same data: the inputs' fingerprint says whether it is) is read as the current
    /// configuration when it matches it with the data's location.
    /// </summary>
    private StageManifest? LoadManifest(Stage stage, string hash, string checkpointHash)
    {
        var m = StageManifest.TryLoad(StageDir(stage));
        if (m is null || m.ConfigHash == hash || stage is not (Stage.Search or Stage.Train or Stage.Validate)) return m;
        var (oldConfig, oldCheckpoint) = Configs(stage, withLocation: true);
        if (m.ConfigHash != StageManifest.HashConfig(oldConfig)) return m;
        return m with
        {
            ConfigHash = hash,
            CheckpointHash = m.CheckpointHash is null || m.CheckpointHash == StageManifest.HashConfig(oldCheckpoint) ? (checkpointHash == hash ? null : checkpointHash) : m.CheckpointHash,
        };
    }

    /// <summary>
    /// A stage's dataset that is missing (its fingerprint says so) is reported as itself, with the layout its reader
    /// expects, before the stage's folder is touched, not as a stage that ran on other data. (Data that is there is read
    /// by the stage itself; a redo that fails on it puts the earlier run back.)
    /// </summary>
    private void RequireData(Stage stage, IReadOnlyDictionary<string, string> inputsNow)
    {
        if (inputsNow.GetValueOrDefault("dataset") != StageManifest.MissingFolder) return;
        var data = stage == Stage.Search ? DatasetRef.Resolve(profile.Search.Dataset, inputs.DataRoot, profile.Search.DataPath) : profile.TrainData;
        data.Open(Split.Train); // throws, naming the folder and its layout
        throw new DatasetNotFoundException($"{data.Location}: folder not found");
    }

    /// <summary>Whether a validation report is there and says the model failed its gates (not a validation that failed otherwise).</summary>
    private static bool ReportFailedGates(string path)
    {
        if (!File.Exists(path)) return false;
        try { return JsonSerializer.Deserialize<ValidationReport>(File.ReadAllText(path), ValidationReport.Json) is { Passed: false }; }
        catch (JsonException) { return false; }
    }

    /// <summary>Whether a finished stage whose outputs changed writes them again from its checkpoint when resumed.</summary>
    private static bool RewritesOutputs(Stage stage, string dir, StageManifest manifest) =>
        stage == Stage.Search && File.Exists(Path.Combine(dir, SearchRunFolder.Checkpoint)) ||
        stage == Stage.Train && manifest.Outputs.TryGetValue(TrainRunFolder.Best, out var best) && File.Exists(Path.Combine(dir, TrainRunFolder.Best)) &&
        StageManifest.HashFile(Path.Combine(dir, TrainRunFolder.Best)) == best;

    /// <summary>How far a stage that stops before its end got (the training's epochs).</summary>
    private string Progress(Stage stage) =>
        stage == Stage.Train ? $"{TrainedEpochs()} of {profile.Train.Epochs} epochs" : "part of it";

    /// <summary>The epochs the train stage has done, from its metrics.json (0 without one).</summary>
    private int TrainedEpochs()
    {
        string path = Path.Combine(StageDir(Stage.Train), TrainRunFolder.MetricsJson);
        if (!File.Exists(path)) return 0;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.TryGetProperty("epochs_done", out var e) ? e.GetInt32() : 0;
    }

    /// <summary>
    /// A stage's configuration (what decides its result), the part of it its checkpoint depends on (the same object
    /// where that is all of it) and its inputs' hashes.
    /// </summary>
    private (object Config, object Checkpoint, Dictionary<string, string> Inputs) Describe(Stage stage)
    {
        var (config, checkpoint) = Configs(stage, withLocation: false);
        return (config, checkpoint, Inputs(stage));
    }

    /// <summary>A stage's configuration and the part of it its checkpoint depends on (after the search: all of it).</summary>
    /// <param name="withLocation">The form of builds before this one, which held the data's location (see <see cref="LoadManifest"/>).</param>
    private (object Config, object Checkpoint) Configs(Stage stage, bool withLocation)
    {
        if (stage == Stage.Search)
        {
            var supernet = SearchConfig(withLocation);
            return (Selected(supernet), supernet);
        }
        object config = stage switch
        {
            Stage.Train => Ranked(new { options = CheckpointFile.ComparableOptions(typeof(TrainOptions), TrainRunner.OptionsJson(profile.Train), includeLocations: withLocation) }),
            Stage.Export => new { keep_batch_norm = false, tolerance = ModelExporter.Tolerance },
            Stage.Validate => new { dataset = withLocation ? profile.TrainData.Location : profile.TrainData.Name, gate_top1 = profile.GateTop1, gate_top5 = profile.GateTop5, max_images = profile.ValidateMaxImages },
            _ => new { models = _models, gate_top1 = profile.GateTop1, gate_top5 = profile.GateTop5 },
        };
        return (config, config);
    }

    /// <summary>The hashes of a stage's inputs: its data's fingerprint, the earlier stages' outputs it reads.</summary>
    private Dictionary<string, string> Inputs(Stage stage) => stage switch
    {
        Stage.Search => new() { ["dataset"] = Fingerprint(DatasetRef.Resolve(profile.Search.Dataset, inputs.DataRoot, profile.Search.DataPath).Location) },
        Stage.Train => new() { ["architecture"] = StageManifest.HashText(Genotype().Architecture.Text), ["dataset"] = Fingerprint(profile.TrainData.Location) },
        Stage.Export => new() { ["checkpoint"] = HashOf(Stage.Train, TrainRunFolder.Best), ["metrics"] = HashOf(Stage.Train, TrainRunFolder.MetricsJson) },
        Stage.Validate => new() { ["model"] = HashOf(Stage.Export, PackageFolder.Model), ["dataset"] = Fingerprint(profile.TrainData.Location) },
        _ => new() { ["model"] = HashOf(Stage.Export, PackageFolder.Model), ["report"] = HashOf(Stage.Validate, PackageFolder.Validation) },
    };

    /// <summary>What the search stage's supernet depends on: its options (runtime settings aside) and the number of MPI ranks.</summary>
    private object SearchConfig(bool withLocation) =>
        Ranked(new { options = CheckpointFile.ComparableOptions(typeof(SearchOptions), SearchRunner.OptionsJson(profile.Search), includeLocations: withLocation) });

    /// <summary>
    /// The search stage's configuration with how its cell is selected: a runtime setting to the search itself (a finished
    /// search may select again), but it decides the stage's genotype. Left out for alpha, so manifests written before the
    /// setting existed still match.
    /// </summary>
    private object Selected(object config) =>
        profile.Search.Selection == CellSelection.Alpha ? config : new { config, selection = profile.Search.Selection, selection_images = profile.Search.SelectionImages };

    /// <summary>A search or training stage's configuration; with MPI ranks, their number too (each rank's share of a batch changes the result).</summary>
    private object Ranked(object config) => inputs.Ranks > 1 ? new { config, ranks = inputs.Ranks } : config;

    /// <summary>Runs a stage; returns its outputs, or null when it stopped before its end.</summary>
    private IReadOnlyList<string>? Execute(Stage stage, string dir, bool resume, CancellationToken cancel)
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
                return TrainedEpochs() < profile.Train.Epochs ? null : [TrainRunFolder.Best, TrainRunFolder.MetricsJson];
            }
            case Stage.Export:
                ModelExporter.Export(StageDir(Stage.Train), Path.Combine(dir, PackageFolder.Model), log, images: profile.TrainData.Open(Split.Test));
                return [PackageFolder.Model];
            case Stage.Validate:
            {
                // A report of an earlier attempt must not outlive this one: if this run fails before writing its own,
                // the stage's failure is what it is, not the earlier gate's (RequireEarlierStages reads the report's presence).
                AtomicFile.TryDelete(Path.Combine(dir, PackageFolder.Validation));
                AtomicFile.TryDelete(Path.Combine(dir, JUnitReport.FileName));
                using var model = new DeployedModel(Path.Combine(StageDir(Stage.Export), PackageFolder.Model), OnnxExecutionProvider.Auto, inputs.Threads);
                var report = Validator.Run(model, profile.TrainData.Open(Split.Test), $"{profile.TrainData.Name} ({profile.TrainData.Location})", 100,
                    profile.ValidateMaxImages, profile.GateTop1, profile.GateTop5, log);
                try { Validator.WriteAndGate(report, Path.Combine(dir, PackageFolder.Validation), log, Path.Combine(dir, JUnitReport.FileName)); }
                catch (GateFailedException e) when (File.Exists(Path.Combine(PackageDir, PackageFolder.Model)) &&
                                                    StageManifest.HashFile(Path.Combine(PackageDir, PackageFolder.Model)) == HashOf(Stage.Export, PackageFolder.Model))
                {
                    // Packaged by an earlier run under other gates or data: what is deployed is this very model. Said, not deleted.
                    throw new GateFailedException($"{e.Message}; {PackageDir} holds this same model, packaged earlier: remove it if it must not be served");
                }
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
        // The validate stage is complete and up to date (its gates are in its configuration), so this report passed the
        // profile's gates; checked again here, as packaging is what ships.
        var report = JsonSerializer.Deserialize<ValidationReport>(File.ReadAllText(reportPath), ValidationReport.Json)!;
        if (report.GateTop1 != profile.GateTop1 || report.GateTop5 != profile.GateTop5)
            throw new InputException($"{reportPath}: validated under gates {report.GateTop1}/{report.GateTop5}, the profile's are {profile.GateTop1}/{profile.GateTop5}; run the validate stage again");
        if (!report.Passed)
            throw new GateFailedException($"{reportPath}: the model did not pass its gates; nothing is packaged");
        DeleteLeftovers();
        string staging = Path.Combine(_models, $".{RunName}.{Guid.NewGuid():N}.tmp");
        RunFolder.Prepare(staging, "package", clear: false);
        string[] files;
        try
        {
            var train = new TrainRunFolder(StageDir(Stage.Train));
            var search = new SearchRunFolder(StageDir(Stage.Search));
            var package = new PackageFolder(staging);
            // Every file on disk before the renames put the package in place of the old one (a power loss never leaves an empty model).
            AtomicFile.Copy(Path.Combine(StageDir(Stage.Export), PackageFolder.Model), package[PackageFolder.Model]);
            // The report as the package's: the model named as it is there, the dataset without this machine's paths.
            AtomicFile.WriteAllText(package[PackageFolder.Validation], JsonSerializer.Serialize(
                report with { Model = PackageFolder.Model, Dataset = ValidationReport.DatasetNameOf(report.Dataset) }, ValidationReport.Json) + "\n");
            // The genotype as the model carries it, with the packaging's provenance: which chain made it and what it passed.
            var carried = ModelMetadata.Read(package[PackageFolder.Model]).Genotype;
            GenotypeFile.Save(package[PackageFolder.Genotype], carried.With("package", new Dictionary<string, object?>
            {
                ["profile"] = profile.Name, ["validated_on"] = ValidationReport.DatasetNameOf(report.Dataset), ["images"] = report.Images,
                ["top1"] = Math.Round(report.Top1, 2), ["top5"] = Math.Round(report.Top5, 2), ["gate_top1"] = report.GateTop1, ["gate_top5"] = report.GateTop5,
            }));
            var copies = new (string From, string To)[] { (train[TrainRunFolder.Curves], PackageFolder.TrainingCurves), (train[TrainRunFolder.MetricsJson], PackageFolder.Metrics),
                (search[SearchRunFolder.Curves], PackageFolder.SearchCurves) };
            foreach (var (from, to) in copies.Concat(CellDrawings.SvgFiles.Select(f => (train[f], f))))
                if (File.Exists(from)) AtomicFile.Copy(from, package[to]);
            AtomicFile.WriteAllText(package[PackageFolder.Card], ModelCard.Write(RunName, profile, report, package, train, ModelCard.Shown(_run), ModelCard.Shown(PackageDir)));
            files = [.. Directory.GetFiles(staging).Select(f => Path.GetFileName(f)).Where(f => !f.StartsWith('.')).Order(StringComparer.Ordinal)];
            Replace(PackageDir, staging);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
        log.WriteLine($"packaged {PackageDir}: {string.Join(", ", files)} (top-1 {report.Top1:0.00}%, top-5 {report.Top5:0.00}%)");
        return files;
    }

    /// <summary>
    /// Puts the staged package in the place of the old one by renames only: the old package is moved aside, the new one
    /// moved in, then the old one deleted; if the move in fails, the old one goes back. A kill in between leaves the old
    /// package aside (restored by the next run's <see cref="DeleteLeftovers"/>), never a half-written one.
    /// </summary>
    private static void Replace(string target, string staging)
    {
        string aside = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.old");
        bool had = Directory.Exists(target);
        if (had)
        {
            RunFolder.RequireOwned(target, "package folder", PackageFolder.IsPackage);
            Directory.Move(target, aside);
        }
        try { Directory.Move(staging, target); }
        catch
        {
            if (had) Directory.Move(aside, target);
            throw;
        }
        if (had) Directory.Delete(aside, recursive: true);
    }

    /// <summary>
    /// What a killed packaging left in models/: its staging folders (deleted) and an old package moved aside while no
    /// package is in place (moved back; deleted when there is one).
    /// </summary>
    private void DeleteLeftovers()
    {
        if (!Directory.Exists(_models)) return;
        // Exactly this run's: ".<run>.<32 hex digits>.tmp" (not another run's whose name starts with this one's).
        // The run's name is matched as text, never as a pattern (a name may hold * or ?).
        IEnumerable<string> Mine(string suffix) => Directory.GetDirectories(_models, $".*{suffix}")
            .Where(d => Path.GetFileName(d) is var n && n.StartsWith($".{RunName}.", StringComparison.Ordinal) && n.Length == RunName.Length + 34 + suffix.Length);
        foreach (string d in Mine(".tmp")) Directory.Delete(d, recursive: true);
        foreach (string d in Mine(".old"))
            if (Directory.Exists(PackageDir)) Directory.Delete(d, recursive: true);
            else Directory.Move(d, PackageDir);
    }

    private GenotypeDocument Genotype()
    {
        string path = Path.Combine(StageDir(Stage.Search), GenotypeFile.FileName);
        if (!File.Exists(path)) throw new InputException($"{path}: no searched genotype yet; run the Search stage first");
        return GenotypeFile.LoadDocument(path);
    }

    /// <summary>
    /// A dataset folder's fingerprint, taken once per runner: every stage checks the stages before it, and listing the
    /// full ImageNet's 1.3 million files each time would cost more than the check.
    /// </summary>
    private string Fingerprint(string dir)
    {
        if (!_fingerprints.TryGetValue(dir, out var f)) _fingerprints[dir] = f = StageManifest.FingerprintFolder(dir);
        return f;
    }

    private readonly Dictionary<string, string> _fingerprints = [];

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
