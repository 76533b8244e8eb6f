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

    /// <summary>Journal files in <see cref="RunFolder.ReplacedName"/> while its entries move (not entries of the run).</summary>
    internal const string MovingJournal = ".s2d-moving", RestoringJournal = ".s2d-restoring";

    /// <summary>
    /// A replaced run kept aside in <paramref name="full"/>: deleted when the folder holds a checkpoint of the new run,
    /// else put back in place of what the new run wrote. The moves are journalled, so that a kill in the middle of one
    /// is finished by the next settle: a move aside cut short is moved back; a restore cut short goes on.
    /// </summary>
    internal static void Settle(string full, TextWriter notes, string dir)
    {
        string aside = Path.Combine(full, RunFolder.ReplacedName);
        if (!Directory.Exists(aside)) return;
        bool movingAside = File.Exists(Path.Combine(aside, MovingJournal)), restoring = File.Exists(Path.Combine(aside, RestoringJournal));
        if (!movingAside && !restoring)
        {
            // Killed after making the folder, before its journal: nothing moved, the earlier run is still in place.
            if (!Directory.EnumerateFileSystemEntries(aside).Any() || RunFolder.HoldsCheckpoint(full))
            {
                Directory.Delete(aside, recursive: true);
                return;
            }
            // What the new run wrote goes first, then the journal, then the earlier run comes back.
            foreach (var e in RunFolder.RunEntries(full).ToList()) RunFolder.DeleteEntry(e);
            File.WriteAllText(Path.Combine(aside, RestoringJournal), "");
        }
        foreach (var e in Directory.EnumerateFileSystemEntries(aside).Where(e => Path.GetFileName(e) is not (MovingJournal or RestoringJournal)).ToList())
            RunFolder.MoveEntry(e, Path.Combine(full, Path.GetFileName(e)));
        Directory.Delete(aside, recursive: true);
        notes.WriteLine(movingAside
            ? $"{dir}: a --force was cut short while it moved the earlier run aside; the earlier run is back in place"
            : $"{dir}: the new run ended before its first checkpoint; the run --force was replacing is back in place");
    }
}
