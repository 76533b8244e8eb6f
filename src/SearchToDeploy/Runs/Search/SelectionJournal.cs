using System.Globalization;
using System.Text.Json;
using SearchToDeploy.Core.Io;

namespace SearchToDeploy.Runs.Search;

/// <summary>
/// A search's selection journal (<see cref="SearchRunFolder.SelectionJournal"/>): the losses a perturbation selection
/// measured, one per line in the order it measured them, after a first line naming what they were measured on (the
/// supernet checkpoint's hash, the held-out images, the seed). The selection is a function of these losses alone, so
/// an interrupted selection resumes by replaying them, and a finished one chooses again without a forward pass. Each
/// loss is appended as it is measured; a torn last line (a kill mid-write) is dropped when the journal is opened again.
/// </summary>
public sealed class SelectionJournal : IDisposable
{
    private readonly StreamWriter? _writer;

    private SelectionJournal(IReadOnlyList<double> known, StreamWriter? writer)
    {
        Known = known;
        _writer = writer;
    }

    /// <summary>The losses measured before, for the same key; empty for another key or no journal.</summary>
    public IReadOnlyList<double> Known { get; }

    /// <summary>
    /// Opens the journal at <paramref name="path"/> for <paramref name="key"/>. With <paramref name="write"/>, the file is
    /// rewritten (atomically) to its header and the known losses, and later losses are appended; without it (a
    /// data-parallel run's other ranks), it is only read.
    /// </summary>
    public static SelectionJournal Open(string path, string key, bool write)
    {
        var known = Read(path, key);
        if (!write) return new(known, null);
        string header = JsonSerializer.Serialize(new Dictionary<string, string> { ["key"] = key });
        AtomicFile.WriteAllText(path, string.Concat(known.Select(l => Line(l) + "\n").Prepend(header + "\n")));
        return new(known, new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)));
    }

    /// <summary>Appends one measured loss and flushes it to the file.</summary>
    public void Append(double loss)
    {
        if (_writer is null) return;
        _writer.Write(Line(loss) + "\n");
        _writer.Flush();
    }

    public void Dispose() => _writer?.Dispose();

    /// <summary>What a selection's losses depend on: the supernet (its checkpoint file), the held-out images and the seed.</summary>
    public static string KeyOf(string checkpoint, int images, long seed)
    {
        using var f = File.OpenRead(checkpoint);
        return string.Create(CultureInfo.InvariantCulture, $"checkpoint sha256 {Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(f))}; {images} held-out images; seed {seed}");
    }

    private static string Line(double loss) => loss.ToString("R", CultureInfo.InvariantCulture);

    private static List<double> Read(string path, string key)
    {
        var known = new List<double>();
        if (!File.Exists(path)) return known;
        var lines = File.ReadAllText(path).Split('\n');
        try
        {
            if (JsonSerializer.Deserialize<Dictionary<string, string>>(lines[0])?.GetValueOrDefault("key") != key) return known;
        }
        catch (JsonException) { return known; }
        // Every line but the last ended with a newline, so only the last can be torn (and an empty last is the rule).
        for (int i = 1; i < lines.Length - 1; i++)
        {
            if (!double.TryParse(lines[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double loss)) break;
            known.Add(loss);
        }
        return known;
    }
}
