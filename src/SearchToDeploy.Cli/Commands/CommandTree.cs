using System.CommandLine;

namespace SearchToDeploy.Cli.Commands;

/// <summary>The commands of a tree with their paths ("bench search", "model random"), for the conventions applied to every option.</summary>
public static class CommandTree
{
    /// <summary>Calls <paramref name="visit"/> on <paramref name="command"/> and every subcommand, with its path below the root.</summary>
    public static void Each(Command command, Action<Command, string> visit, string path = "")
    {
        visit(command, path);
        foreach (var sub in command.Subcommands) Each(sub, visit, $"{path} {sub.Name}".Trim());
    }
}
