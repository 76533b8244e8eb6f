
namespace SearchToDeploy.Core.Torch;

/// <summary>
/// Errors raised inside libtorch carry its C++ backtrace in the message ("Exception raised from ...", then dozens of
/// "frame #N: ..." lines). A person needs the message; the frames are for a bug report.
/// </summary>
public static class NativeErrors
{
    /// <summary>The message without libtorch's backtrace.</summary>
    public static string Message(Exception e) => Clean(e.Message);

    public static string Clean(string message)
    {
        var kept = new List<string>();
        foreach (var line in message.Split('\n'))
        {
            string t = line.TrimStart();
            if (t.StartsWith("Exception raised from ", StringComparison.Ordinal) || t.StartsWith("frame #", StringComparison.Ordinal)) break;
            kept.Add(line.TrimEnd('\r'));
        }
        return string.Join('\n', kept).Trim();
    }

    /// <summary>Whether the message holds a libtorch backtrace.</summary>
    public static bool HasBacktrace(string message) => message.Contains("\nframe #", StringComparison.Ordinal) || message.Contains("Exception raised from ", StringComparison.Ordinal);
}
