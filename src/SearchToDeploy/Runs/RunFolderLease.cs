namespace SearchToDeploy.Runs;

/// <summary>
/// A run folder held by this process (<see cref="RunFolder.Lease"/>): its lock, and with --force the earlier run kept
/// aside until the new one has a checkpoint. Disposing settles the replacement and releases the lock.
/// </summary>
public sealed class RunFolderLease : IDisposable
{
    private readonly string _full, _dir;
    private readonly FileStream _lock;
    private readonly string? _aside;
    private readonly TextWriter _notes;
    private bool _disposed;

    internal RunFolderLease(string full, string dir, FileStream held, string? aside, TextWriter notes)
    {
        _full = full;
        _dir = dir;
        _lock = held;
        _aside = aside;
        _notes = notes;
    }

    /// <summary>Whether an earlier run is kept aside (--force replaced a run).</summary>
    public bool Replacing => _aside is not null;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { Settle(_full, _notes, _dir); }
        finally { _lock.Dispose(); }
    }

    /// <summary>
    /// A replaced run kept aside in <paramref name="full"/>: deleted when the folder holds a checkpoint of the new run,
    /// else put back in place of what the new run wrote.
    /// </summary>
    internal static void Settle(string full, TextWriter notes, string dir)
    {
        string aside = Path.Combine(full, RunFolder.ReplacedName);
        if (!Directory.Exists(aside)) return;
        if (Directory.EnumerateFiles(full, "*.s2d").Any())
        {
            Directory.Delete(aside, recursive: true);
            return;
        }
        foreach (var e in RunFolder.RunEntries(full))
            if (Directory.Exists(e)) Directory.Delete(e, recursive: true);
            else File.Delete(e);
        foreach (var e in Directory.EnumerateFileSystemEntries(aside).ToList())
            RunFolder.MoveEntry(e, Path.Combine(full, Path.GetFileName(e)));
        Directory.Delete(aside);
        notes.WriteLine($"{dir}: the new run ended before its first checkpoint; the run --force was replacing is back in place");
    }
}
