using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Runs.Search;

namespace SearchToDeploy.Pipeline;

/// <summary>Where the pipeline reads data and what it gates on; from the command line (Cake arguments).</summary>
public sealed record PipelineInputs(string DataRoot, string? ImageNet = null, string? Transfer = null, double? GateTop1 = null, double? GateTop5 = null, int Threads = 0)
{
    /// <summary>Search space instead of the profile's (a NAS-Bench-201 space gives the smoke profile the nb201 chain's network and data).</summary>
    public string? Space { get; init; }
    /// <summary>Search method instead of the profile's RF-PCDARTS.</summary>
    public SearchMethod? Method { get; init; }
    public long? Seed { get; init; }
    /// <summary>Search with parallel steps (<see cref="SearchOptions.ParallelSteps"/>).</summary>
    public bool ParallelSteps { get; init; }
    /// <summary>NAS-Bench-201: derive the searched cell without none (<see cref="SearchOptions.DeriveWithoutNone"/>).</summary>
    public bool DeriveWithoutNone { get; init; }
    /// <summary>The search's activations (<see cref="SearchOptions.Precision"/>).</summary>
    public Precision Precision { get; init; }
    /// <summary>Where search and training run: auto, cpu, cuda or cuda:N (<see cref="SearchToDeploy.Core.Torch.TorchDevices"/>).</summary>
    public string Device { get; init; } = "auto";
    /// <summary>
    /// Settings of the profile's search or retraining to change, as "search.key=value" or "train.key=value" with the
    /// keys of s2d search and s2d train (e.g. "train.epochs=30"); applied through <see cref="Runs.OptionTable"/>.
    /// </summary>
    public IReadOnlyList<string> Settings { get; init; } = [];
    /// <summary>MPI ranks of the Search and Train stages (1: in this process; more: a job through <see cref="Launcher"/>).</summary>
    public int Ranks { get; init; } = 1;
    /// <summary>The command that starts <see cref="Ranks"/> processes, with {ranks} for their number.</summary>
    public string Launcher { get; init; } = DefaultLauncher;
    public const string DefaultLauncher = "mpirun -np {ranks}";
    /// <summary>How to start this s2d (its executable, or dotnet and its dll), for the ranks of an MPI stage.</summary>
    public IReadOnlyList<string>? SelfCommand { get; init; }
    /// <summary>Where <see cref="Settings"/> came from, for messages: "--set", or a settings file and --set.</summary>
    public string SettingsSource { get; init; } = "--set";

    /// <summary>The <see cref="Settings"/> of one stage ("search" or "train") as key/value pairs; a malformed one is bad input.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> SettingsOf(string stage)
    {
        var found = new List<KeyValuePair<string, string>>();
        foreach (var s in Settings)
        {
            int dot = s.IndexOf('.'), eq = s.IndexOf('=');
            if (dot <= 0 || eq < dot + 2 || s[..dot] is not ("search" or "train"))
                throw new InputException($"--set '{s}': expected search.<key>=<value> or train.<key>=<value> (keys as the options of s2d search and s2d train)");
            if (s[..dot] == stage) found.Add(new(s[(dot + 1)..eq].Trim(), s[(eq + 1)..].Trim()));
        }
        return found;
    }
}
