namespace SearchToDeploy.Core;

/// <summary>The loader's own reason in .NET's message for a native library that does not load.</summary>
public static class NativeLoadErrors
{
    private const string Marker = "environment variable:";

    /// <summary>
    /// dlerror's text (e.g. "libcublasLt.so.13: cannot open shared object file: No such file or directory", or an
    /// undefined symbol) from a <see cref="DllNotFoundException"/>'s message, which wraps it in advice about strace and
    /// LD_DEBUG; the message's first line where it has no such part.
    /// </summary>
    public static string Reason(Exception e)
    {
        string m = e.Message.Replace('\n', ' ').Trim();
        int i = m.IndexOf(Marker, StringComparison.Ordinal);
        return i >= 0 ? m[(i + Marker.Length)..].Trim() : e.Message.Split('\n')[0].Trim();
    }
}
