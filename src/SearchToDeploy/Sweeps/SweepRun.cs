using System.Globalization;
using System.Text.Json.Nodes;

namespace SearchToDeploy.Sweeps;

/// <summary>One run of a sweep: its folder name and its search settings.</summary>
public sealed record SweepRun(string Name, JsonObject Settings)
{
    public const string SettingsFileName = "settings.json";

    /// <summary>The arguments of its task after the s2d command: an ordinary, resumable search.</summary>
    public IReadOnlyList<string> Arguments(string sweepDir, string dataRoot, int threads) =>
        ["search", "--config", Path.Combine(sweepDir, Name, SettingsFileName), "--data-root", dataRoot, "--out", Path.Combine(sweepDir, Name), "--resume",
         .. threads > 0 ? new[] { "--threads", threads.ToString(CultureInfo.InvariantCulture) } : []];
}
