namespace SearchToDeploy.Pipeline;

/// <summary>
/// A search or training stage started over (its configuration or inputs changed, or --force) keeps its earlier run
/// aside, beside the stage folder, until the new run has written a checkpoint (<see cref="Runs.RunFolder.CheckpointNames"/>): a redo that fails, is
/// stopped or is killed before then (missing data, refused settings, Ctrl+C) puts the earlier run back, so a finished
/// search or training is never lost to a redo that did not get going. Whole folders move by single renames, so a kill
/// at any point leaves a state that the next <see cref="Settle"/> finishes.
/// </summary>
public static class StageReplacement
{
    /// <summary>Where the earlier run waits: runs/&lt;run&gt;/.&lt;stage&gt;.replaced.</summary>
    public static string KeptDir(string stageDir) => Sibling(stageDir, "replaced");

    private static string DiscardedDir(string stageDir) => Sibling(stageDir, "discarded");

    private static string Sibling(string stageDir, string what)
    {
        string full = Path.GetFullPath(stageDir).TrimEnd(Path.DirectorySeparatorChar);
        return Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{what}");
    }

    /// <summary>
    /// Moves the stage folder (s2d's own, under its lock; an earlier replacement settled) aside; bad input when another
    /// process writes it.
    /// </summary>
    public static void Begin(string stageDir)
    {
        Runs.RunFolder.RequireOwned(stageDir, "stage folder");
        string full = Path.GetFullPath(stageDir);
        using (Runs.RunFolder.Lock(full, stageDir, "stage folder")) Directory.Move(full, KeptDir(stageDir));
    }

    /// <summary>
    /// Settles a replacement of <paramref name="stageDir"/>: the earlier run is deleted when the stage folder holds a
    /// checkpoint of the new one, else put back in its place (what the new run wrote is deleted), telling <paramref name="log"/>.
    /// Under the stage folder's lock: a process still writing it (an MPI job's rank 0 that outlived its launcher) is
    /// bad input naming the folder, and the earlier run stays kept for the next settle.
    /// </summary>
    public static void Settle(string stageDir, TextWriter log, string stage)
    {
        string full = Path.GetFullPath(stageDir), kept = KeptDir(stageDir), discarded = DiscardedDir(stageDir);
        if (Directory.Exists(discarded)) Directory.Delete(discarded, recursive: true);
        if (!Directory.Exists(kept)) return;
        using (Directory.Exists(full) ? Runs.RunFolder.Lock(full, stageDir, "stage folder") : null)
        {
            if (Runs.RunFolder.HoldsCheckpoint(full))
            {
                Directory.Delete(kept, recursive: true);
                return;
            }
            // Renames first (a kill between them leaves the earlier run kept and no stage folder: the next settle restores it).
            if (Directory.Exists(full)) Directory.Move(full, discarded);
            Directory.Move(kept, full);
        }
        if (Directory.Exists(discarded)) Directory.Delete(discarded, recursive: true);
        log.WriteLine($"[{stage}] the new run ended before its first checkpoint; the stage's earlier run is back in {stageDir}");
    }
}
