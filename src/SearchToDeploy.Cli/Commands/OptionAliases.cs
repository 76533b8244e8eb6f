using System.CommandLine;

namespace SearchToDeploy.Cli.Commands;

/// <summary>
/// One concept, two spellings across the commands (--out and --output for a written file, --batch and --batch-size):
/// each command that has one spelling also takes the other, so a name that works in one command works in the next.
/// </summary>
public static class OptionAliases
{
    private static readonly (string Name, string Alias)[] Pairs = [("--output", "--out"), ("--batch", "--batch-size"), ("--batch-size", "--batch")];

    public static void Apply(Command root) => CommandTree.Each(root, (command, path) =>
    {
        var names = command.Options.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet();
        // --out names a written file in some commands (their --output too); elsewhere it is a run folder, which --output is not.
        var pairs = OutputFiles.OutIsFile.Contains(path) ? [.. Pairs, ("--out", "--output")] : Pairs;
        foreach (var (name, alias) in pairs)
            if (!names.Contains(alias) && command.Options.FirstOrDefault(o => o.Name == name) is { } option)
            {
                option.Aliases.Add(alias);
                names.Add(alias);
            }
    });
}
