using System.CommandLine;

namespace SearchToDeploy.Cli.Commands;

/// <summary>
/// The options that name a file a command writes, checked at parse time: a folder given where a file is written is bad
/// input naming the option, before the work (a validation, a prediction run) rather than after it.
/// </summary>
public static class OutputFiles
{
    /// <summary>Options that name a written file in every command that has them.</summary>
    private static readonly HashSet<string> Always = ["--output", "--report", "--junit"];

    /// <summary>Commands whose --out is a file (elsewhere --out is a run or sweep folder).</summary>
    internal static readonly HashSet<string> OutIsFile = ["export", "predict", "model random"];

    /// <summary>Adds the check to every such option of <paramref name="command"/> and its subcommands.</summary>
    public static void Apply(Command root) => CommandTree.Each(root, (command, path) =>
    {
        foreach (var option in command.Options)
            if (Always.Contains(option.Name) || option.Name == "--out" && OutIsFile.Contains(path))
                option.Validators.Add(result =>
                {
                    foreach (var token in result.Tokens)
                        if (Directory.Exists(token.Value)) result.AddError($"{option.Name} {token.Value}: is a folder; expected the path of a file to write");
                });
    });
}
