
namespace SearchToDeploy.Core.Io;

/// <summary>Writes files so that a crash never leaves a half-written file where a good one was: temp file, then rename.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string tmp = TempPathFor(full);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    /// <summary>
    /// A temporary name beside <paramref name="path"/> (".name.pid.guid.tmp"): written there and renamed into place, and
    /// deleted by <see cref="DeleteStale"/> when the process that wrote it is gone.
    /// </summary>
    public static string TempPathFor(string path)
    {
        string full = Path.GetFullPath(path);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/> as <see cref="Write"/> writes (on disk before it is in place).</summary>
    public static void Copy(string from, string to) =>
        Write(to, s => { using var source = File.OpenRead(from); source.CopyTo(s); });

    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, leaveOpen: true); w.Write(text); });

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>
    /// Deletes the temporary files a killed writer left in <paramref name="dir"/> (".name.pid.guid.tmp" of a process that
    /// no longer runs); returns how many.
    /// </summary>
    public static int DeleteStale(string dir)
    {
        if (!Directory.Exists(dir)) return 0;
        int deleted = 0;
        foreach (var file in Directory.EnumerateFiles(dir, ".*.tmp"))
        {
            var m = System.Text.RegularExpressions.Regex.Match(Path.GetFileName(file), @"^\..+\.(\d+)\.[0-9a-f]{32}\.tmp$");
            if (!m.Success || int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) is var pid && Alive(pid)) continue;
            TryDelete(file);
            deleted++;
        }
        return deleted;
    }

    private static bool Alive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Deletes a file if it is there and may be deleted; never throws.</summary>
    public static void TryDelete(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
