using System.CommandLine;
using SearchToDeploy.Data;

namespace SearchToDeploy.Cli.Commands;

/// <summary>Options shared by several commands, so each is spelled and described once.</summary>
public static class CommonOptions
{
    public static Option<string?> DataRoot() => new("--data-root")
    {
        Description = $"Folder holding the datasets (default: ${DataRoot_Env}, else ./data)",
    };

    private const string DataRoot_Env = Data.DataRoot.EnvironmentVariable;

    public static Option<string> Dataset(bool required = true) => new("--dataset")
    {
        Description = $"Dataset: {string.Join(", ", DatasetRef.Names)}",
        Required = required,
    };

    public static Option<string?> DataPath() => new("--data")
    {
        Description = "Dataset folder for imagenet (train/ and val/) or imagefolder (class sub-folders, or train/ and val/)",
    };

    public static Option<bool> CoarseLabels() => new("--coarse-labels")
    {
        Description = "CIFAR-100: use the 20 coarse labels instead of the 100 fine ones",
    };

    public static Option<string> Genotype(bool required = true) => new("--genotype")
    {
        Description = "A genotype.json file, a model.onnx exported by s2d (its genotype), or a genotype string: DARTS Genotype(normal=[...], " +
                      "normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=...) or a NAS-Bench-201 arch string |op~0|+|op~0|op~1|+|...|, " +
                      $"or a published cell by name ({string.Join(", ", Nas.Architectures.KnownGenotypes.Names)})",
        Required = required,
    };

    /// <summary>The genotype a --genotype argument names: a genotype.json, an s2d model.onnx (the same document, from its metadata) or a string.</summary>
    public static Nas.Architectures.GenotypeDocument LoadGenotype(string argument) =>
        argument.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) && File.Exists(argument)
            ? Deploy.Onnx.ModelMetadata.Read(argument).Genotype
            : !File.Exists(argument) && Nas.Architectures.KnownGenotypes.ByName(argument) is { } known ? Nas.Architectures.GenotypeFile.LoadFileOrText(known)
            : Nas.Architectures.GenotypeFile.LoadFileOrText(argument);

    public static Option<string?> Network() => new("--network")
    {
        Description = "cifar (DARTS CIFAR network), imagenet (DARTS ImageNet network, mobile setting) or nb201 (default: nb201 for a " +
                      "NAS-Bench-201 cell, else cifar for 32x32 datasets and imagenet otherwise)",
    };

    public static Option<double?> MaxMadds() => new("--max-madds")
    {
        Description = "Fail before training when the network has more multiply-adds (millions) than this (mobile setting: 600)",
    };

    public static Option<string> ExecutionProvider() => new("--ep")
    {
        Description = "ONNX Runtime execution provider: auto (CUDA when usable, else CPU; the log says which ran), cuda or cpu",
        DefaultValueFactory = _ => "auto",
    };

    public static Option<string?> Device() => new("--device")
    {
        Description = $"Where torch runs: {SearchToDeploy.Core.Torch.TorchDevices.Names}; auto (default) takes the GPU when TorchSharp can use one (a build with " +
                      "-p:S2DTorch=cuda on a machine with an NVIDIA driver), else the CPU; the log says which",
    };

    /// <summary>Whether the command line names <paramref name="option"/> (rather than leaving it to its default).</summary>
    public static bool Given(ParseResult r, Option option) => r.GetResult(option) is { Implicit: false };

    /// <summary>Bad input when an option that means something only with another (--server-pid with --soak) is given without it.</summary>
    public static void OnlyWith(ParseResult r, bool on, string with, params Option[] options)
    {
        if (on) return;
        foreach (var o in options)
            if (Given(r, o)) throw new InputException($"{o.Name}: applies only with {with}");
    }

    /// <summary>
    /// Resuming a run starts from its saved settings; an option given again that picks what the run is (its space,
    /// method, preset, dataset...) and differs from the saved value is a mistake, named here. Values compare as given
    /// (normalised by the caller), letter case ignored.
    /// </summary>
    public static void RefuseChangeOnResume(ParseResult r, string optionsFile, params (Option Option, string? Now, string? Saved)[] identity)
    {
        foreach (var (option, now, was) in identity)
            if (Given(r, option) && !string.Equals(now, was, StringComparison.OrdinalIgnoreCase))
                throw new InputException($"{option.Name} {now}: the run was started with {option.Name} {was} (see {optionsFile}); " +
                                         "resume without it, or start a new run folder");
    }

    /// <summary>Resolves --dataset/--data-root/--data/--coarse-labels to a dataset.</summary>
    public static DatasetRef ResolveDataset(ParseResult r, Option<string> dataset, Option<string?> root, Option<string?> path,
        Option<bool> coarse) =>
        DatasetRef.Resolve(r.GetValue(dataset)!, Data.DataRoot.Resolve(r.GetValue(root)), r.GetValue(path), r.GetValue(coarse));

    public static Option<string?> Config() => new("--config")
    {
        Description = "Settings file (JSON, or YAML by its .yaml/.yml extension): the options by name without dashes, e.g. {\"epochs\": 20, \"lr\": 0.1}; options on the command line override it",
    };

    public static Option<string?> PrintConfig() => new("--print-config")
    {
        Description = "Print the fully resolved settings (json or yaml) in the form --config reads, and stop",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>The settings file --config names, if any.</summary>
    public static System.Text.Json.Nodes.JsonObject? ReadConfig(ParseResult r, Option<string?> config) =>
        r.GetValue(config) is { } path ? Runs.SettingsFile.Read(path) : null;

    /// <summary>A text option's value: the command line's if given, else the settings file's (by the option's name without dashes), else its default.</summary>
    public static string? Pick<T>(ParseResult r, Option<T> option, System.Text.Json.Nodes.JsonObject? file) =>
        Given(r, option) ? r.GetValue(option)?.ToString() : file?[option.Name.TrimStart('-')]?.ToString() ?? r.GetValue(option)?.ToString();

    /// <summary>Whether --print-config was given, and in which format (json unless "yaml").</summary>
    public static string? PrintFormat(ParseResult r, Option<string?> print)
    {
        if (r.GetResult(print) is not { Implicit: false }) return null;
        string format = (r.GetValue(print) ?? "json").ToLowerInvariant();
        return format is "json" or "yaml" or "yml" ? format : throw new InputException($"--print-config {r.GetValue(print)}: expected json or yaml");
    }

    /// <summary>The file's settings other than <paramref name="identity"/> (the options a command resolves itself), for the option table.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> TableSettings(System.Text.Json.Nodes.JsonObject file, string source, params string[] identity) =>
        [.. Runs.SettingsFile.Scalars(file, source).Where(kv => !identity.Contains(kv.Key))];

    /// <summary>A number from a settings file or the command line (null when absent); bad input names the option.</summary>
    public static double? ParseNumber(string? text, string option)
    {
        if (text is null) return null;
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new InputException($"{option} {text}: expected a number");
        OptionRanges.Check(option, text);
        return v;
    }

    /// <summary>A true/false setting from a settings file.</summary>
    public static bool ParseFlag(string text, string source, string option) =>
        bool.TryParse(text, out bool v) ? v : throw new InputException($"{source}: setting '{option.TrimStart('-')}' is '{text}'; expected true or false");

    /// <summary>How to start this s2d again: its own executable, or dotnet and s2d.dll (as under dotnet run, or a test host).</summary>
    public static IReadOnlyList<string> SelfCommand()
    {
        string dll = typeof(S2dApp).Assembly.Location;
        string apphost = Path.Combine(Path.GetDirectoryName(dll)!, "s2d");
        if (File.Exists(apphost)) return [apphost];
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet");
        return [host, dll];
    }
}
