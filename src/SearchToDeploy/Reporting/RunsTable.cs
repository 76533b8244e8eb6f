using System.Globalization;
using System.Text;
using System.Text.Json;

namespace SearchToDeploy.Reporting;

/// <summary>
/// A Markdown table over finished training runs: runs of the same model (cell, network, width, depth) on the same
/// dataset that differ only in their seed are one row, with the mean, the sample standard deviation (none for one seed)
/// and the range of their final top-1/top-5, their size and training time (the epochs' training, evaluation aside).
/// Each run is named by its label: the folder name without a trailing "-s&lt;seed&gt;", or for a pipeline's train
/// stage (runs/&lt;run&gt;/train) the run's. A run that has not finished its epochs is refused: its top-1 is not final.
/// </summary>
public static class RunsTable
{
    public sealed record Run(string Folder, string Label, string Model, long Seed, double Top1, double Top5, long Parameters, long MultiplyAdds,
        double Seconds, int Epochs);

    /// <summary>A training run folder's metrics.json and options.json (its seed); bad input names the file.</summary>
    public static Run Read(string folder)
    {
        string metrics = Path.Combine(folder, "metrics.json"), options = Path.Combine(folder, "options.json");
        if (!File.Exists(metrics)) throw new InputException($"{folder}: no metrics.json; expected a training run folder (s2d train --out) with at least one epoch");
        try
        {
            using var m = JsonDocument.Parse(File.ReadAllText(metrics));
            var r = m.RootElement;
            long seed = 0;
            int done = r.GetProperty("epochs_done").GetInt32();
            if (File.Exists(options))
            {
                using var o = JsonDocument.Parse(File.ReadAllText(options));
                if (o.RootElement.TryGetProperty("Seed", out var s)) seed = s.GetInt64();
                if (o.RootElement.TryGetProperty("Epochs", out var e) && e.GetInt32() is var epochs && done < epochs)
                    throw new InputException($"{folder}: unfinished ({done} of {epochs} epochs); the table is over finished runs, whose top-1 is final");
            }
            string full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar), name = Path.GetFileName(full);
            if (name == "train" && Path.GetFileName(Path.GetDirectoryName(full)) is { Length: > 0 } run) name = run; // runs/<run>/train
            string label = System.Text.RegularExpressions.Regex.Replace(name, @"-s\d+$", "");
            string dataset = r.TryGetProperty("dataset", out var d) ? d.GetString() ?? "" : "";
            string model = $"{r.GetProperty("architecture").GetString()}|{r.GetProperty("network").GetString()}|{r.GetProperty("channels").GetInt64()}|{r.GetProperty("layers").GetInt32()}|{dataset}";
            return new Run(folder, label, model, seed, r.GetProperty("final_top1").GetDouble(), r.GetProperty("final_top5").GetDouble(),
                r.GetProperty("parameters").GetInt64(), r.GetProperty("multiply_adds").GetInt64(), r.GetProperty("train_seconds").GetDouble(), done);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InputException($"{metrics}: not the metrics.json s2d train writes ({e.Message})");
        }
    }

    public static string Markdown(IReadOnlyList<Run> runs)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("| model | seeds | top-1 % (mean ± sd, range) | top-5 % (mean ± sd, range) | params (M) | MAdds (M) | epochs | training (min, mean) |");
        sb.AppendLine("|---|---:|---|---|---:|---:|---:|---:|");
        // A folder named twice counts once.
        var distinct = runs.DistinctBy(r => Path.GetFullPath(r.Folder).TrimEnd(Path.DirectorySeparatorChar));
        foreach (var g in distinct.GroupBy(r => (r.Label, r.Model)).OrderByDescending(g => g.Average(r => r.Top1)))
        {
            var list = g.OrderBy(r => r.Seed).ToList();
            string Stat(Func<Run, double> f)
            {
                var v = list.Select(f).ToList();
                double mean = v.Average();
                if (v.Count == 1) return string.Format(inv, "{0:0.00} (one seed)", mean); // no spread to state
                double sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1));
                return string.Format(inv, "{0:0.00} ± {1:0.00} ({2:0.00}-{3:0.00})", mean, sd, v.Min(), v.Max());
            }
            var first = list[0];
            sb.AppendLine(string.Format(inv, "| {0} | {1} | {2} | {3} | {4:0.000} | {5:0.0} | {6} | {7:0.0} |", g.Key.Label.Replace("|", "\\|", StringComparison.Ordinal),
                string.Join(", ", list.Select(r => r.Seed)), Stat(r => r.Top1), Stat(r => r.Top5), first.Parameters / 1e6, first.MultiplyAdds / 1e6,
                first.Epochs, list.Average(r => r.Seconds) / 60));
        }
        return sb.ToString();
    }
}
