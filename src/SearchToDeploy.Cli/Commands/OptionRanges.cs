using System.CommandLine;
using System.Globalization;

namespace SearchToDeploy.Cli.Commands;

/// <summary>
/// The ranges of the numeric options the commands declare themselves (the settings of search and training carry
/// theirs in their option tables), by option name, in one place: every command's options are checked against it at
/// parse time, so a negative thread count or a 101% gate is bad input (exit code 2) naming the option, never a crash or
/// a gate that cannot pass.
/// </summary>
public static class OptionRanges
{
    private sealed record Range(double Min, double Max, string Expected);

    private static readonly Dictionary<string, Range> Ranges = new()
    {
        ["--threads"] = new(0, int.MaxValue, "0 (all cores) or more"),
        ["--workers"] = new(0, 64, "0 to 64 loader threads"),
        ["--decode-slots"] = new(1, 1024, "1 to 1024 images at a time"),
        ["--gate-top1"] = new(0, 100, "a percentage from 0 to 100"),
        ["--gate-top5"] = new(0, 100, "a percentage from 0 to 100"),
        ["--batch"] = new(1, 65536, "a batch size of 1 or more"),
        ["--batch-size"] = new(1, 65536, "a batch size of 1 or more"),
        ["--imagenet-batch"] = new(1, 65536, "a batch size of 1 or more"),
        ["--steps"] = new(1, 1_000_000, "1 or more steps"),
        ["--requests"] = new(1, int.MaxValue, "1 or more requests"),
        ["--concurrency"] = new(1, 100_000, "1 or more clients"),
        ["--parity-images"] = new(0, 100_000, "0 (none) or more images"),
        ["--max-images"] = new(0, int.MaxValue, "0 (all) or more images"),
        ["--max-bytes"] = new(1, long.MaxValue, "a positive number of bytes"),
        ["--seconds"] = new(0.001, 1e6, "a positive number of seconds"),
        ["--channels"] = new(1, 4096, "1 to 4096 channels"),
        ["--layers"] = new(1, 1000, "1 or more cells"),
        ["--classes"] = new(2, 1_000_000, "2 or more classes"),
        ["--image-size"] = new(16, 4096, "16 to 4096 pixels"),
        ["--max-madds"] = new(0.001, 1e9, "a positive number of millions"),
        ["--ranks"] = new(1, 1_000_000, "1 or more processes"),
        ["--jobs"] = new(1, 1024, "1 or more searches at a time"),
        ["--cpus-per-task"] = new(1, 100_000, "1 or more CPUs"),
        ["--max-concurrent"] = new(0, 1_000_000, "0 (no limit) or more tasks"),
        ["--max-batch"] = new(0, 1024, "0 (by execution provider), 1 (no batching) to 1024 images"),
        ["--max-delay-ms"] = new(0, 10_000, "0 to 10000 milliseconds"),
        ["--queue"] = new(1, 1_000_000, "1 or more images"),
        ["--top"] = new(1, int.MaxValue, "1 or more classes"),
    };

    /// <summary>Where one command's option has another range than the table's: by the command's path and the option's name.</summary>
    private static readonly Dictionary<string, Range> Scoped = new()
    {
        // Zero steps measures the supernet's memory alone (docs/benchmarks.md); a training step count of 0 measures nothing.
        ["bench search --steps"] = new(0, 1_000_000, "0 (memory only) or more steps"),
    };

    /// <summary>Adds the range check to every option of <paramref name="command"/> and its subcommands that the table names.</summary>
    public static void Apply(Command root) => CommandTree.Each(root, (command, path) =>
    {
        // Options bound to a settings table (OptionBinder) parse and range-check their values themselves.
        foreach (var option in command.Options.Where(o => o.GetType().GetProperty("CustomParser")?.GetValue(o) is null))
            if (Scoped.TryGetValue($"{path} {option.Name}", out var range) || Ranges.TryGetValue(option.Name, out range))
                option.Validators.Add(result =>
                {
                    foreach (var token in result.Tokens)
                        if (Error(option.Name, token.Value, range) is { } message) result.AddError(message);
                });
    });

    /// <summary>Bad input unless <paramref name="text"/>, the value of <paramref name="option"/> (from a settings file), is in its range.</summary>
    public static void Check(string option, string text)
    {
        if (Ranges.TryGetValue(option, out var range) && Error(option, text, range) is { } message) throw new InputException(message);
    }

    private static string? Error(string option, string text, Range range) =>
        !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? null // the parser's own message names it
        : double.IsFinite(v) && v >= range.Min && v <= range.Max ? null
        : $"{option} {text}: expected {range.Expected}";
}
