using System.Globalization;
using System.Text.Json;

namespace SearchToDeploy.Deploy.Inference;

/// <summary>
/// <c>s2d predict</c>'s output: CSV (a header, then per image its path, for each of the top k its class index, label
/// and probability, and an error column, empty when it was classified) or JSON Lines (one object per image).
/// </summary>
public static class PredictionFile
{
    public static readonly IReadOnlyList<string> Formats = ["csv", "jsonl"];

    /// <summary>The format <paramref name="format"/> names, else the one the output file's extension implies (.jsonl, .json: JSON Lines), else CSV.</summary>
    public static string Resolve(string? format, string? path)
    {
        if (format is not null)
            return Formats.Contains(format) ? format : throw new InputException($"--format {format}: expected {string.Join(" or ", Formats)}");
        return Path.GetExtension(path ?? "").ToLowerInvariant() is ".jsonl" or ".json" ? "jsonl" : "csv";
    }

    /// <summary>Writes the predictions as they come; returns how many images could not be classified.</summary>
    public static int Write(IEnumerable<Prediction> predictions, TextWriter output, string format, int top)
    {
        var inv = CultureInfo.InvariantCulture;
        if (format == "csv")
            output.WriteLine(string.Join(",", ["path", .. Enumerable.Range(1, top).SelectMany(i => new[] { $"index_{i}", $"label_{i}", $"probability_{i}" }), "error"]));
        int failed = 0;
        foreach (var p in predictions)
        {
            if (p.Error is not null) failed++;
            if (format == "csv")
            {
                var cells = new List<string> { Csv(p.Path) };
                for (int i = 0; i < top; i++)
                    cells.AddRange(i < p.Top.Count ? [p.Top[i].Index.ToString(inv), Csv(p.Top[i].Label), p.Top[i].Probability.ToString("0.000000", inv)] : ["", "", ""]);
                cells.Add(Csv(p.Error ?? ""));
                output.WriteLine(string.Join(",", cells));
            }
            else
            {
                var line = new Dictionary<string, object?>
                {
                    ["path"] = p.Path,
                    ["top"] = p.Top.Select(t => new Dictionary<string, object> { ["index"] = t.Index, ["label"] = t.Label, ["probability"] = Math.Round(t.Probability, 6) }).ToList(),
                };
                if (p.Error is not null) line["error"] = p.Error;
                output.WriteLine(JsonSerializer.Serialize(line));
            }
        }
        return failed;
    }

    /// <summary>A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled.</summary>
    private static string Csv(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";
}
