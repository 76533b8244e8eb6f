using System.Globalization;

namespace SearchToDeploy.Nas.Architectures;

/// <summary>
/// A NAS-Bench-201 accuracy table (tab-separated: arch, then accuracy columns such as cifar10_test; row i is
/// architecture index i), for looking up what a searched cell would reach when trained by the benchmark's protocol.
/// </summary>
public sealed class Nb201Table
{
    private readonly Dictionary<string, Nb201Entry> _byArch;

    private Nb201Table(string path, IReadOnlyList<string> columns, Dictionary<string, Nb201Entry> byArch)
    {
        Source = path; Columns = columns; _byArch = byArch;
    }

    public string Source { get; }
    public IReadOnlyList<string> Columns { get; }
    public int Count => _byArch.Count;

    public static Nb201Table Load(string path)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: NAS-Bench-201 table not found; expected a TSV with an 'arch' column and accuracy columns");
        using var reader = new StreamReader(path);
        var header = reader.ReadLine()?.Split('\t') ?? throw new InputException($"{path}: empty file");
        if (header.Length < 2 || header[0] != "arch")
            throw new InputException($"{path}: first column is '{header[0]}'; expected 'arch' then accuracy columns");
        var columns = header[1..];
        var rows = new Dictionary<string, Nb201Entry>(StringComparer.Ordinal);
        int index = 0, row = 0; // index: lines after the header (for messages); row: the architecture's index (blank lines skipped)
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine(), index++)
        {
            if (line.Length == 0) continue;
            var f = line.Split('\t');
            if (f.Length != header.Length)
                throw new InputException($"{path}: line {index + 2} has {f.Length} fields; expected {header.Length}");
            var acc = new Dictionary<string, double?>();
            for (int c = 0; c < columns.Length; c++)
            {
                if (f[c + 1].Length == 0) { acc[columns[c]] = null; continue; }
                if (!double.TryParse(f[c + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                    throw new InputException($"{path}: line {index + 2} column {columns[c]} is '{f[c + 1]}'; expected a number");
                acc[columns[c]] = v;
            }
            rows[f[0]] = new Nb201Entry(row++, f[0], acc);
        }
        return new Nb201Table(path, columns, rows);
    }

    public Nb201Entry Lookup(Nb201Arch arch) =>
        TryLookup(arch) ?? throw new InputException($"{Source}: architecture {arch} is not in the table");

    /// <summary>The architecture's row; null when the table lacks it (a partial table).</summary>
    public Nb201Entry? TryLookup(Nb201Arch arch) => _byArch.GetValueOrDefault(arch.ToString());

    /// <summary>The best value of a column over all architectures.</summary>
    public (double Value, Nb201Entry Entry) Best(string column) =>
        _byArch.Values.Where(e => e.Accuracies.GetValueOrDefault(column) is not null)
            .Select(e => (e.Accuracies[column]!.Value, e)).MaxBy(x => x.Value);

    /// <summary>The fraction of architectures with a lower value in a column (the percentile of a result).</summary>
    public double Percentile(string column, double value)
    {
        var values = _byArch.Values.Select(e => e.Accuracies.GetValueOrDefault(column)).Where(v => v is not null).ToList();
        return values.Count(v => v < value) / (double)values.Count;
    }
}
