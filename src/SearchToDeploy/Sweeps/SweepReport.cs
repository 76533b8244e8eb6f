using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SearchToDeploy.Sweeps;

/// <summary>
/// A sweep's finished searches as Markdown: per method, space, dataset and preset, the cells found, their
/// NAS-Bench-201 accuracies where the space has them (mean ± sample sd over seeds), the search's final validation
/// accuracy, and the search hours; then one row per run.
/// </summary>
public static class SweepReport
{
    public sealed record Result(string Name, string Method, string Space, string Dataset, string Preset, long Seed, string Genotype,
        double? Nb201Cifar10Test, double? Nb201Cifar100Test, double? Nb201ImageNetTest, double ValidAccuracy, double Seconds);

    /// <summary>Whether a search run folder holds a finished search (its summary.json).</summary>
    public static bool Finished(string runDir) => File.Exists(Path.Combine(runDir, Runs.Search.SearchRunFolder.Summary));

    public static Result Read(string runDir)
    {
        string path = Path.Combine(runDir, Runs.Search.SearchRunFolder.Summary);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var r = doc.RootElement;
            double? Nb(string key) => r.TryGetProperty("nb201", out var nb) && nb.ValueKind == JsonValueKind.Object && nb.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
            return new Result(Path.GetFileName(Path.GetFullPath(runDir).TrimEnd('/')), r.GetProperty("method").GetString()!, r.GetProperty("space").GetString()!,
                r.GetProperty("dataset").GetString()!, r.TryGetProperty("preset", out var p) ? p.GetString()! : "?", r.GetProperty("seed").GetInt64(),
                r.GetProperty("genotype").GetString()!, Nb("cifar10_test"), Nb("cifar100_test"), Nb("imagenet16_test"),
                r.GetProperty("final_valid_accuracy").GetDouble(), r.GetProperty("search_seconds").GetDouble());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InputException($"{path}: not the summary.json s2d search writes ({e.Message})");
        }
    }

    public static string Markdown(string sweepDir)
    {
        var plan = SweepPlan.Load(sweepDir) ?? throw new InputException($"{sweepDir}: no {SweepPlan.FileName}; expected a folder s2d sweep made");
        var results = plan.Runs.Select(r => Path.Combine(sweepDir, r.Name)).Where(Finished).Select(Read).ToList();
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"Sweep {Path.GetFileName(Path.GetFullPath(sweepDir).TrimEnd('/'))}: {results.Count} of {plan.Runs.Count} searches finished.");
        sb.AppendLine();
        sb.AppendLine("| method | space | dataset | preset | seeds | different cells | NB201 CIFAR-10 test % | NB201 CIFAR-100 test % | NB201 ImageNet16 test % | search valid % | search hours (total, per run) |");
        sb.AppendLine("|---|---|---|---|---|---:|---|---|---|---|---|");
        foreach (var g in results.GroupBy(r => (r.Method, r.Space, r.Dataset, r.Preset)).OrderBy(g => g.Key.Space).ThenByDescending(g => g.Average(r => r.Nb201Cifar10Test ?? r.ValidAccuracy)))
        {
            var list = g.OrderBy(r => r.Seed).ToList();
            sb.AppendLine(string.Format(inv, "| {0} | {1} | {2} | {3} | {4} | {5} | {6} | {7} | {8} | {9} | {10:0.00}, {11:0.00} |", g.Key.Method, g.Key.Space, g.Key.Dataset, g.Key.Preset,
                string.Join(", ", list.Select(r => r.Seed)), list.Select(r => r.Genotype).Distinct().Count(), Stat(list.Select(r => r.Nb201Cifar10Test)),
                Stat(list.Select(r => r.Nb201Cifar100Test)), Stat(list.Select(r => r.Nb201ImageNetTest)), Stat(list.Select(r => (double?)r.ValidAccuracy)),
                list.Sum(r => r.Seconds) / 3600, list.Average(r => r.Seconds) / 3600));
        }
        sb.AppendLine();
        sb.AppendLine("| run | NB201 CIFAR-10 test % | search valid % | minutes | cell |");
        sb.AppendLine("|---|---:|---:|---:|---|");
        foreach (var r in results.OrderBy(r => r.Name, StringComparer.Ordinal))
            sb.AppendLine(string.Format(inv, "| {0} | {1} | {2:0.00} | {3:0.0} | `{4}` |", r.Name, r.Nb201Cifar10Test is { } c ? c.ToString("0.00", inv) : "-", r.ValidAccuracy, r.Seconds / 60, r.Genotype));
        var missing = plan.Runs.Where(r => !Finished(Path.Combine(sweepDir, r.Name))).Select(r => r.Name).ToList();
        if (missing.Count > 0) sb.AppendLine().AppendLine($"Not finished: {string.Join(", ", missing)}.");
        return sb.ToString();
    }

    /// <summary>"mean ± sd (min-max)" over the values present, or "-".</summary>
    private static string Stat(IEnumerable<double?> values)
    {
        var v = values.Where(x => x is not null).Select(x => x!.Value).ToList();
        if (v.Count == 0) return "-";
        double mean = v.Average(), sd = v.Count > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1)) : 0;
        return string.Format(CultureInfo.InvariantCulture, "{0:0.00} ± {1:0.00} ({2:0.00}-{3:0.00})", mean, sd, v.Min(), v.Max());
    }
}
