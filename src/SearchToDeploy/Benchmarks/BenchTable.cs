using System.Globalization;
using System.Text;

namespace SearchToDeploy.Benchmarks;

/// <summary>Rows of one benchmark run, printable as a Markdown table.</summary>
public sealed class BenchTable(string title, params string[] figureNames)
{
    public string Title { get; } = title;
    public List<BenchRow> Rows { get; } = [];
    public IReadOnlyList<string> FigureNames { get; } = figureNames;

    public void Add(string name, string settings, params (string Key, double Value)[] figures) =>
        Rows.Add(new BenchRow(name, settings, figures.ToDictionary(f => f.Key, f => f.Value)));

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"### {Title}");
        sb.AppendLine();
        sb.AppendLine($"| workload | settings | {string.Join(" | ", FigureNames)} |");
        sb.AppendLine($"|---|---|{string.Concat(FigureNames.Select(_ => "---:|"))}");
        foreach (var r in Rows)
            sb.AppendLine($"| {r.Name} | {r.Settings} | {string.Join(" | ", FigureNames.Select(f => r.Figures.TryGetValue(f, out var v) ? Format(v) : ""))} |");
        return sb.ToString();
    }

    /// <summary>A figure as the tables in docs print it, whatever the machine's locale; a figure not measured (NaN) is blank.</summary>
    internal static string Format(double v) =>
        double.IsNaN(v) ? "" : Math.Abs(v) >= 100 ? v.ToString("N0", CultureInfo.InvariantCulture) : v.ToString("0.###", CultureInfo.InvariantCulture);
}
