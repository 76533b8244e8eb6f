namespace SearchToDeploy.Benchmarks;

/// <summary>Resident memory of this process from /proc (Linux); peak resident memory can be reset between measurements.</summary>
public static class ProcessMemory
{
    public static bool Supported => File.Exists("/proc/self/status");

    /// <summary>VmHWM: the peak resident set size since start or the last <see cref="ResetPeak"/>, in bytes.</summary>
    public static long PeakResidentBytes() => ReadKb("VmHWM:") * 1024;

    public static long ResidentBytes() => ReadKb("VmRSS:") * 1024;

    /// <summary>The resident set size of another process (e.g. a server under load), in bytes; 0 where unknown.</summary>
    public static long ResidentBytes(int pid) => ReadKb("VmRSS:", $"/proc/{pid}/status") * 1024;

    /// <summary>
    /// Resets VmHWM to the current RSS (writing 5 to /proc/self/clear_refs); false where that is not allowed (some
    /// containers), and VmHWM then stays the process's all-time peak.
    /// </summary>
    public static bool ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); return true; }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    private static long ReadKb(string key, string file = "/proc/self/status")
    {
        if (!File.Exists(file)) return 0;
        foreach (var line in File.ReadLines(file))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0]);
        return 0;
    }
}
