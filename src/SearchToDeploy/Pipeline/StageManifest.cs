using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using SearchToDeploy.Core.Io;

namespace SearchToDeploy.Pipeline;

/// <summary>
/// runs/&lt;run&gt;/&lt;stage&gt;/manifest.json: what a completed stage was made from (its configuration, the hashes of
/// its inputs), what it made (its outputs and their hashes), with the versions and source commit that made it. A stage
/// whose manifest matches the current configuration and inputs, and whose outputs are intact, is skipped.
/// </summary>
public sealed record StageManifest
{
    public const string FileName = Runs.RunFolder.ManifestFileName;

    public string Stage { get; init; } = "";
    public string Profile { get; init; } = "";
    /// <summary>running, complete, failed, or stopped (a training's stop-after: resumed by the next run).</summary>
    public string Status { get; init; } = "complete";
    public string ConfigHash { get; init; } = "";
    public JsonElement Config { get; init; }
    /// <summary>
    /// The hash of the part of the configuration the stage's checkpoint depends on, where that is less than all of it
    /// (a search's, without its cell selection); a stage that differs only elsewhere resumes from its checkpoint.
    /// Absent where it equals <see cref="ConfigHash"/>.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? CheckpointHash { get; init; }
    public Dictionary<string, string> Inputs { get; init; } = [];
    public Dictionary<string, string> Outputs { get; init; } = [];
    public Dictionary<string, string> Versions { get; init; } = [];
    public string? SourceCommit { get; init; }
    public string Started { get; init; } = "";
    public string Finished { get; init; } = "";
    public double Seconds { get; init; }
    /// <summary>Why the stage failed (status "failed"); absent otherwise.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? Error { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static StageManifest? TryLoad(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<StageManifest>(File.ReadAllText(path), Json); }
        catch (JsonException) { return null; }
    }

    public void Save(string dir) => AtomicFile.WriteAllText(Path.Combine(dir, FileName), JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>True when this manifest describes a completed stage made from the same configuration and inputs whose outputs are unchanged.</summary>
    public bool IsUpToDate(string dir, string configHash, IReadOnlyDictionary<string, string> inputs) =>
        Status == "complete" && ConfigHash == configHash && HasInputs(inputs) && OutputsUnchanged(dir);

    /// <summary>Whether the stage ran on exactly these inputs (their hashes).</summary>
    public bool HasInputs(IReadOnlyDictionary<string, string> inputs) =>
        Inputs.Count == inputs.Count && inputs.All(kv => Inputs.GetValueOrDefault(kv.Key) == kv.Value);

    /// <summary>Whether every output is still there with the hash it was written with.</summary>
    public bool OutputsUnchanged(string dir) =>
        Outputs.All(kv => File.Exists(Path.Combine(dir, kv.Key)) && HashFile(Path.Combine(dir, kv.Key)) == kv.Value);

    /// <summary>The hash of a stage's configuration object, as <see cref="ConfigHash"/> holds it.</summary>
    public static string HashConfig(object config) => HashText(JsonSerializer.Serialize(config, Json));

    public static string HashText(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static string HashFile(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }

    /// <summary>The fingerprint of a dataset folder that does not exist.</summary>
    public const string MissingFolder = "missing";

    /// <summary>A cheap fingerprint of a dataset's files (relative names, sizes, modification times), not their bytes.</summary>
    public static string FingerprintFolder(string dir)
    {
        if (!Directory.Exists(dir)) return MissingFolder;
        var sb = new StringBuilder();
        foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(f);
            sb.Append(Path.GetRelativePath(dir, f)).Append('|').Append(info.Length).Append('|').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
        }
        return HashText(sb.ToString());
    }

    /// <summary>
    /// The commit of the repository above <paramref name="start"/> (read from .git, no git needed; a worktree's or
    /// submodule's .git file followed to its folder), or null.
    /// </summary>
    public static string? SourceCommitOf(string start)
    {
        for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
        {
            string git = Path.Combine(d.FullName, ".git");
            if (File.Exists(git) && File.ReadAllText(git).Trim() is var link && link.StartsWith("gitdir: ", StringComparison.Ordinal))
                git = Path.GetFullPath(link[8..].Trim(), d.FullName);
            if (!Directory.Exists(git)) continue;
            string head = File.ReadAllText(Path.Combine(git, "HEAD")).Trim();
            if (!head.StartsWith("ref: ", StringComparison.Ordinal)) return head;
            string refName = head[5..];
            // A worktree keeps its HEAD; branches live in the common folder its commondir file names.
            string common = File.Exists(Path.Combine(git, "commondir")) ? Path.GetFullPath(File.ReadAllText(Path.Combine(git, "commondir")).Trim(), git) : git;
            foreach (var folder in new[] { git, common }.Distinct())
            {
                string refPath = Path.Combine(folder, refName);
                if (File.Exists(refPath)) return File.ReadAllText(refPath).Trim();
                string packed = Path.Combine(folder, "packed-refs");
                if (File.Exists(packed))
                    foreach (var line in File.ReadLines(packed))
                        if (line.EndsWith(" " + refName, StringComparison.Ordinal)) return line.Split(' ')[0];
            }
            return null;
        }
        return null;
    }
}
