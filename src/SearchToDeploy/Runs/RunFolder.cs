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

    /// <summary>
    /// Makes <paramref name="dir"/> ready for a run of <paramref name="kind"/>: creates it, or checks that an existing one
    /// is empty or s2d's own; with <paramref name="clear"/>, empties it first (only s2d's own). Writes the marker.
    /// </summary>
    public static void Prepare(string dir, string kind, bool clear, string option = "--out")
    {
        string full = Path.GetFullPath(dir);
        if (File.Exists(full)) throw new InputException($"{option} {dir}: is a file; expected a run folder");
        if (Directory.Exists(full))
        {
            if (!IsEmpty(full) && !IsOwned(full))
                throw NotOurs(dir, option, clear);
            if (clear) Clear(full, option);
        }
        Directory.CreateDirectory(full);
        AtomicFile.DeleteStale(full); // what a killed run was writing when it died
        string marker = Path.Combine(full, MarkerName);
        if (!File.Exists(marker))
            AtomicFile.WriteAllText(marker, JsonSerializer.Serialize(new { kind, created = DateTime.UtcNow.ToString("o") }) + "\n");
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
        foreach (var file in Directory.GetFiles(full)) File.Delete(file);
    }

    private static InputException NotOurs(string dir, string option, bool clear) =>
        new($"{option} {dir}: the folder exists, is not empty and is not an s2d run folder (it has no {MarkerName} marker); " +
            $"s2d {(clear ? "deletes" : "writes into")} only new, empty or its own run folders: choose another folder");

    private static bool IsEmpty(string dir) => !Directory.EnumerateFileSystemEntries(dir).Any();

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
