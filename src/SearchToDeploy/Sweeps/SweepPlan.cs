using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Data;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Runs;
using SearchToDeploy.Runs.Search;

namespace SearchToDeploy.Sweeps;

/// <summary>
/// A sweep: every combination of methods, spaces, datasets, presets and seeds as one ordinary search run folder
/// (&lt;sweep&gt;/&lt;method&gt;-&lt;space&gt;-&lt;dataset&gt;-&lt;preset&gt;-s&lt;seed&gt;) holding the settings file its
/// <c>s2d search --config settings.json --resume</c> reads. Each task is independent and resumable, so a task
/// preempted and run again, locally or as a Slurm array task, continues where it stopped.
/// </summary>
public sealed record SweepPlan(IReadOnlyList<SweepRun> Runs)
{
    public const string FileName = "sweep.json";

    public static SweepPlan Create(IReadOnlyList<string> methods, IReadOnlyList<string> spaces, IReadOnlyList<string> datasets,
        IReadOnlyList<string> presets, IReadOnlyList<long> seeds, IReadOnlyList<KeyValuePair<string, string>> settings, string dataRoot)
    {
        foreach (var (name, list) in new[] { ("--methods", methods), ("--spaces", spaces), ("--datasets", datasets), ("--presets", presets) })
            if (list.Count == 0 || list.Distinct().Count() != list.Count) throw new InputException($"{name}: expected one or more different values");
        if (seeds.Count == 0 || seeds.Distinct().Count() != seeds.Count) throw new InputException("--seeds: expected one or more different seeds");
        if (settings.FirstOrDefault(s => s.Key.Equals("seed", StringComparison.OrdinalIgnoreCase)) is { Key: not null } seedSetting)
            throw new InputException($"--set {seedSetting.Key}={seedSetting.Value}: each search's seed comes from --seeds (e.g. --seeds {seedSetting.Value})");
        string table = Path.Combine(dataRoot, "nas-bench-201", "accuracy.tsv");
        var runs = new List<SweepRun>();
        foreach (string m in methods)
        foreach (string space in spaces)
        foreach (string dataset in datasets)
        foreach (string preset in presets)
        foreach (long seed in seeds)
        {
            var method = SearchMethod.Parse(m);
            var o = SearchPresets.Create(preset, space, method) with { Dataset = dataset };
            o = OptionTable.ApplyText(o, [.. settings, new("seed", seed.ToString(CultureInfo.InvariantCulture))], "--set");
            if (o.Nb201Table is null && o.SearchSpace.Kind.HasBenchmarkTable && File.Exists(table)) o = o with { Nb201Table = table };
            o.Validate();
            DatasetRef.Resolve(dataset, dataRoot); // a clear error now rather than in every task
            runs.Add(new SweepRun($"{method.Name}-{o.SearchSpace.Name}-{DatasetRef.CanonicalName(dataset)}-{preset}-s{seed}", SettingsFile.Of(o)));
        }
        // Two spellings of one value (nb201 and nas-bench-201, cifar-10 and cifar10) would make two tasks of one run folder.
        if (runs.GroupBy(r => r.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new InputException($"the lists name run {twice.Key} {twice.Count()} times (two spellings of one method, space or dataset); give each once");
        return new SweepPlan(runs);
    }

    /// <summary>
    /// Writes the plan and each run's folder and settings into <paramref name="dir"/>. A sweep folder keeps its plan:
    /// writing another one there is bad input (use another folder), the same one again is fine (to continue it).
    /// </summary>
    public void Write(string dir)
    {
        RunFolder.Prepare(dir, "sweep", clear: false);
        string path = Path.Combine(dir, FileName);
        string json = JsonSerializer.Serialize(Runs.Select(r => new { name = r.Name, settings = r.Settings }), new JsonSerializerOptions { WriteIndented = true }) + "\n";
        if (File.Exists(path) && Load(dir) is { } existing && !existing.Runs.Select(r => r.Name + r.Settings.ToJsonString()).SequenceEqual(Runs.Select(r => r.Name + r.Settings.ToJsonString())))
            throw new InputException($"{path}: this folder holds another sweep ({existing.Runs.Count} runs); continue it with the same lists and settings, or use another --out");
        AtomicFile.WriteAllText(path, json);
        foreach (var r in Runs)
        {
            string runDir = Path.Combine(dir, r.Name);
            RunFolder.Prepare(runDir, "search", clear: false, deleteStale: false); // its array task may be writing it on another node
            AtomicFile.WriteAllText(Path.Combine(runDir, SweepRun.SettingsFileName), SettingsFile.Write(r.Settings, "json"));
        }
    }

    public static SweepPlan? Load(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var list = JsonNode.Parse(File.ReadAllText(path))!.AsArray();
            return new SweepPlan([.. list.Select(n => new SweepRun(n!["name"]!.GetValue<string>(), n["settings"]!.AsObject().DeepClone().AsObject()))]);
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException)
        {
            throw new InputException($"{path}: not the sweep plan s2d sweep writes ({e.Message})");
        }
    }
}
