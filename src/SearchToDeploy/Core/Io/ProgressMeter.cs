using System.Diagnostics;

namespace SearchToDeploy.Core.Io;

/// <summary>
/// Periodic progress lines with rate and ETA ("label: 120/500 batches (24.0%), 31.2 img/s, ETA 2m03s"), at most one
/// line per interval, plus a final line. Plain lines, so logs and CI output stay readable.
/// </summary>
public sealed class ProgressMeter
{
    private readonly string _label;
    private readonly double _total;
    private readonly string _unit;
    private readonly TextWriter _out;
    private readonly TimeSpan _interval;
    private readonly Func<double, string> _format;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private TimeSpan _lastPrint = TimeSpan.Zero;
    private double _done;

    public ProgressMeter(string label, double total, string unit, TextWriter? output = null, TimeSpan? interval = null,
        Func<double, string>? format = null)
    {
        _label = label; _total = total; _unit = unit; _out = output ?? Console.Out;
        _interval = interval ?? TimeSpan.FromSeconds(10);
        _format = format ?? (v => v.ToString("0"));
    }

    public TimeSpan Elapsed => _watch.Elapsed;
    public double Done => _done;
    /// <summary>Units per second so far.</summary>
    public double Rate => _done / Math.Max(_watch.Elapsed.TotalSeconds, 1e-9);

    /// <summary>Sets the amount done; prints when the interval has passed. <paramref name="extra"/> is appended (e.g. a loss).</summary>
    public void Report(double done, string? extra = null)
    {
        _done = done;
        if (_watch.Elapsed - _lastPrint < _interval) return;
        _lastPrint = _watch.Elapsed;
        _out.WriteLine(Line(extra));
    }

    public void Finish(string? extra = null)
    {
        _out.WriteLine($"{_label}: {_format(_done)} {_unit} in {FormatDuration(_watch.Elapsed)} ({Rate:0.#} {_unit}/s)" +
                       (extra is null ? "" : $", {extra}"));
    }

    public string Line(string? extra = null)
    {
        string pct = _total > 0 ? $" ({100 * _done / _total:0.0}%)" : "";
        string eta = _total > 0 && _done > 0 ? $", ETA {FormatDuration(TimeSpan.FromSeconds((_total - _done) / Rate))}" : "";
        return $"{_label}: {_format(_done)}/{_format(_total)} {_unit}{pct}, {Rate:0.#} {_unit}/s{eta}" +
               (extra is null ? "" : $", {extra}");
    }

    public static string FormatDuration(TimeSpan t)
    {
        if (t.TotalHours >= 1) return $"{(int)t.TotalHours}h{t.Minutes:00}m";
        if (t.TotalMinutes >= 1) return $"{(int)t.TotalMinutes}m{t.Seconds:00}s";
        return $"{t.TotalSeconds:0.0}s";
    }
}
