using System.Text;

namespace SearchToDeploy.Tests;

/// <summary>
/// A log that cancels a run when the <paramref name="count"/>-th line containing the trigger is written (a
/// deterministic "kill" at a chosen point).
/// </summary>
internal sealed class CancelOnLine(string trigger, CancellationTokenSource cts, int count = 1) : TextWriter
{
    private readonly StringBuilder _line = new();
    private int _seen;
    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        if (value != '\n') { _line.Append(value); return; }
        if (_line.ToString().Contains(trigger, StringComparison.Ordinal) && ++_seen == count) cts.Cancel();
        _line.Clear();
    }
}
