using System.Text.Json;
using SearchToDeploy.Core.Io;

namespace SearchToDeploy.Runs;

/// <summary>
/// The folders s2d writes runs into (search and training runs, pipeline stages, packaged models) carry a marker file.
/// s2d writes only into a new or empty folder or one of its own, and deletes (<c>--force</c>, a stage redone, a
/// package replaced) only its own: anything else is refused as bad input, so a mistyped <c>--out</c> can never wipe a
/// folder of the user's.
/// </summary>
public static class RunFolder
{
    public const string MarkerName = ".s2d-run";
    /// <summary>The file a run holds locked (an exclusive flock, released when its process ends) while it writes the folder.</summary>
    public const string LockName = ".s2d-lock";
    /// <summary>Where <see cref="Lease"/> keeps a folder's earlier run while <c>--force</c> replaces it.</summary>
    public const string ReplacedName = ".s2d-replaced";
    /// <summary>
    /// The files by which a new run has a checkpoint to go on from (a search's, a training's last; not a training's
    /// best.s2d, which an epoch writes beside it, nor the TensorBoard events file, whose name ends in .s2d too).
    /// </summary>
    public static readonly IReadOnlyList<string> CheckpointNames = [Search.SearchRunFolder.Checkpoint, Training.TrainRunFolder.Last];

    /// <summary>Whether <paramref name="full"/> holds a checkpoint (<see cref="CheckpointNames"/>).</summary>
    public static bool HoldsCheckpoint(string full) => CheckpointNames.Any(n => File.Exists(Path.Combine(full, n)));

    /// <summary>
    /// Makes <paramref name="dir"/> ready for a run of <paramref name="kind"/>: creates it, or checks that an existing one
    /// is empty or s2d's own, of the same kind; with <paramref name="clear"/>, empties it first (only s2d's own, and not
    /// while another process writes it). Writes the marker.
    /// </summary>
    /// <param name="deleteStale">Delete the temporary files of writers that no longer run. False where a process on
    /// another machine may be writing the folder now (a sweep's run folders while its array tasks run): whether a
    /// writer runs is known only on its own machine, and the run that leases the folder deletes them itself.</param>
    public static void Prepare(string dir, string kind, bool clear, string option = "--out", bool deleteStale = true)
    {
        string full = Path.GetFullPath(dir);
        Check(full, dir, kind, option, clear);
        Directory.CreateDirectory(full);
        if (clear)
            using (Lock(full, dir, option))
                Clear(full, option);
        Finish(full, kind, deleteStale);
    }

    /// <summary>
    /// Holds <paramref name="dir"/> for a run of <paramref name="kind"/> until disposed: checked as <see cref="Prepare"/>
    /// does, then locked, so that a second process writing (or with --force deleting) the same folder is refused. With
    /// <paramref name="replace"/> (--force) the folder's earlier run is moved aside, not deleted: when the new run ends,
    /// it is deleted if the new run has written a checkpoint (<see cref="CheckpointNames"/>), and put back if not (refused settings, a
    /// failure, a stop), telling <paramref name="notes"/>. A replacement a killed process left is settled the same way
    /// by the next run in the folder.
    /// </summary>
    public static RunFolderLease Lease(string dir, string kind, bool replace, TextWriter notes, string option = "--out")
    {
        string full = Path.GetFullPath(dir);
        Check(full, dir, kind, option, replace);
        var held = Lock(full, dir, option); // creates the folder
        try
        {
            RunFolderLease.Settle(full, notes, dir);
            string? aside = replace ? MoveAside(full) : null;
            Finish(full, kind);
            return new RunFolderLease(full, dir, held, aside, notes);
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Locks <paramref name="dir"/> (its <see cref="LockName"/> file, created if missing) for this process until the
    /// returned stream is disposed; bad input naming the folder when another process holds it.
    /// </summary>
    public static FileStream Lock(string full, string dir, string option)
    {
        Directory.CreateDirectory(full);
        string path = Path.Combine(full, LockName);
        try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new InputException($"{option} {dir}: another s2d process is writing this folder (it holds {path}); wait for it to end, or stop it");
        }
    }

    /// <summary>Refuses a file, a folder that is not s2d's, and one of s2d's of another kind of run.</summary>
    private static void Check(string full, string dir, string kind, string option, bool clear)
    {
        if (File.Exists(full)) throw new InputException($"{option} {dir}: is a file; expected a run folder");
        if (!Directory.Exists(full) || IsEmpty(full)) return;
        if (!IsOwned(full)) throw NotOurs(dir, option, clear);
        if (KindOf(full) is { } other && Family(other) != Family(kind))
            throw new InputException($"{option} {dir}: holds a {Family(other)} run; a {Family(kind)} run needs a folder of its own " +
                                     $"(s2d does not {(clear ? "delete" : "write into")} another kind of run: choose another folder, or delete this one yourself)");
    }

    /// <summary>A pipeline's stage folder ("stage search") holds the run its command writes ("search"): one family.</summary>
    private static string Family(string kind) => kind.StartsWith("stage ", StringComparison.Ordinal) ? kind[6..] : kind;

    /// <summary>The kind the folder's marker names; null without a marker (a folder of a build before markers) or a readable kind.</summary>
    public static string? KindOf(string dir)
    {
        string marker = Path.Combine(dir, MarkerName);
        if (!File.Exists(marker)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(marker));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
        }
        catch (JsonException) { return null; }
        catch (IOException) { return null; }
    }

    private static void Finish(string full, string kind, bool deleteStale = true)
    {
        if (deleteStale) AtomicFile.DeleteStale(full); // what a killed run was writing when it died
        string marker = Path.Combine(full, MarkerName);
        if (!File.Exists(marker))
            AtomicFile.WriteAllText(marker, JsonSerializer.Serialize(new { kind, created = DateTime.UtcNow.ToString("o") }) + "\n");
    }

    /// <summary>Moves the folder's run (all but the marker and the lock) into <see cref="ReplacedName"/>; null when there was none.</summary>
    private static string? MoveAside(string full)
    {
        var entries = RunEntries(full).ToList();
        if (entries.Count == 0) return null;
        string aside = Path.Combine(full, ReplacedName);
        Directory.CreateDirectory(aside);
        // A journal while the entries move: a kill in the middle leaves a half-moved run, which the next settle moves back.
        string moving = Path.Combine(aside, RunFolderLease.MovingJournal);
        File.WriteAllText(moving, "");
        foreach (var e in entries) MoveEntry(e, Path.Combine(aside, Path.GetFileName(e)));
        File.Delete(moving);
        return aside;
    }

    /// <summary>
    /// Settles what an interrupted <c>--force</c> left in <paramref name="dir"/> (see <see cref="Lease"/>), under the
    /// folder's lock, before anything reads the folder's run (a resume's saved options and checkpoint).
    /// </summary>
    public static void SettleReplacement(string dir, TextWriter notes, string option = "--out")
    {
        string full = Path.GetFullPath(dir);
        if (!Directory.Exists(Path.Combine(full, ReplacedName)) || !IsOwned(full)) return; // only in s2d's own folders
        using (Lock(full, dir, option)) RunFolderLease.Settle(full, notes, dir);
    }

    /// <summary>The folder's entries that belong to its run: all but the marker, the lock and a replaced run.</summary>
    internal static IEnumerable<string> RunEntries(string full) =>
        Directory.EnumerateFileSystemEntries(full).Where(e => Path.GetFileName(e) is not (MarkerName or LockName or ReplacedName));

    internal static void MoveEntry(string from, string to)
    {
        if (Directory.Exists(from)) Directory.Move(from, to);
        else File.Move(from, to);
    }

    internal static void DeleteEntry(string entry)
    {
        if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
        else File.Delete(entry);
    }

    /// <summary>
    /// Deletes an s2d folder (refused for any other non-empty folder); a missing folder is fine. <paramref name="recognise"/>
    /// tells folders of builds before the marker of a kind this room does not know (packages).
    /// </summary>
    public static void Delete(string dir, string option, Func<string, bool>? recognise = null)
    {
        string full = Path.GetFullPath(dir);
        if (!Directory.Exists(full)) return;
        RequireOwned(dir, option, recognise);
        Directory.Delete(full, recursive: true);
    }

    /// <summary>Refuses (as <see cref="Delete"/> would) an existing non-empty folder that is not s2d's.</summary>
    public static void RequireOwned(string dir, string option, Func<string, bool>? recognise = null)
    {
        string full = Path.GetFullPath(dir);
        if (Directory.Exists(full) && !IsEmpty(full) && !IsOwned(full) && recognise?.Invoke(full) != true) throw NotOurs(dir, option, clear: true);
    }

    /// <summary>
    /// True when s2d made the folder: it holds the marker, or (a folder from a build before markers) an options.json
    /// of a search or training run, or a pipeline stage's manifest.json.
    /// </summary>
    public static bool IsOwned(string dir)
    {
        if (File.Exists(Path.Combine(dir, MarkerName))) return true;
        return HasJsonProperty(Path.Combine(dir, Core.Checkpoints.CheckpointFile.OptionsFileName), "Preset") ||
               HasJsonProperty(Path.Combine(dir, ManifestFileName), "config_hash");
    }

    /// <summary>The name of a pipeline stage's manifest (Pipeline's StageManifest), by which stage folders are recognised.</summary>
    public const string ManifestFileName = "manifest.json";

    /// <summary>Whether the JSON file holds an object with that property.</summary>
    public static bool HasJsonProperty(string path, string name) => HasProperty(path, name);

    private static void Clear(string full, string option)
    {
        string cwd = Path.GetFullPath(Environment.CurrentDirectory);
        if (IsSameOrInside(cwd, full))
            throw new InputException($"{option} {full}: is the working directory or holds it; s2d does not clear it");
        foreach (var sub in Directory.GetDirectories(full)) Directory.Delete(sub, recursive: true);
        foreach (var file in Directory.GetFiles(full))
            if (Path.GetFileName(file) != LockName) File.Delete(file); // held while clearing
    }

    private static InputException NotOurs(string dir, string option, bool clear) =>
        new($"{option} {dir}: the folder exists, is not empty and is not an s2d run folder (it has no {MarkerName} marker); " +
            $"s2d {(clear ? "deletes" : "writes into")} only new, empty or its own run folders: choose another folder");

    /// <summary>Nothing in it but perhaps a lock file (a run killed right after locking, or refused after it).</summary>
    private static bool IsEmpty(string dir) => !Directory.EnumerateFileSystemEntries(dir).Any(e => Path.GetFileName(e) != LockName);

    private static bool IsSameOrInside(string path, string folder)
    {
        string f = folder.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        string p = path.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        return p.StartsWith(f, StringComparison.Ordinal);
    }

    private static bool HasProperty(string path, string name)
    {
        if (!File.Exists(path)) return false;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(name, out _);
        }
        catch (JsonException) { return false; }
        catch (IOException) { return false; }
    }
}
