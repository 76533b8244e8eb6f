using System.Text;

namespace SearchToDeploy.Core.Io;

/// <summary>
/// A TextWriter that writes each line to the console (or another writer) and, timestamped, to a run's log file,
/// so long runs leave a log a person can read.
/// </summary>
public sealed class RunLog : TextWriter
{
    private readonly TextWriter _console;
    private readonly StreamWriter? _file;
    private readonly StringBuilder _line = new();
    private readonly object _gate = new();

    public RunLog(TextWriter console, string? logFile)
    {
        _console = console;
        if (logFile is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
            _file = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.Read), Encoding.UTF8) { AutoFlush = true };
        }
    }

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_gate)
        {
            if (value == '\n') { Flush(line: _line.ToString()); _line.Clear(); }
            else if (value != '\r') _line.Append(value);
        }
    }

    public override void Write(string? value)
    {
        if (value is null) return;
        foreach (char c in value) Write(c);
    }

    /// <summary>Writes a line to <paramref name="console"/> (e.g. standard error) instead of this log's console, and to the log file.</summary>
    public void WriteLine(string line, TextWriter console)
    {
        lock (_gate)
        {
            console.WriteLine(line);
            _file?.WriteLine($"{DateTime.Now:yyyy-MM-dd HH:mm:ss} {line}");
        }
    }

    private void Flush(string line)
    {
        _console.WriteLine(line);
        _file?.WriteLine($"{DateTime.Now:yyyy-MM-dd HH:mm:ss} {line}");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_gate) if (_line.Length > 0) { Flush(_line.ToString()); _line.Clear(); }
            _file?.Dispose();
        }
        base.Dispose(disposing);
    }
}
