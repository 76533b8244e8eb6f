using System.CommandLine;
using SearchToDeploy.Reporting;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d report runs</c>: one table over finished training runs (the transfer study's, a sweep's).</summary>
public static class ReportCommand
{
    public static Command Create(CliIo io)
    {
        var cmd = new Command("report", "Tables over finished runs");
        var runs = new Option<string[]>("--runs") { Description = "Training run folders; runs named <label>-s<seed> of the same model are one row", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string?>("--output") { Description = "Also write the table to this Markdown file" };
        var table = new Command("runs", "Mean, spread and range of final top-1/top-5 over seeds, with size and training time, per model");
        table.Options.Add(runs);
        table.Options.Add(output);
        table.SetAction(r => io.Guard(() =>
        {
            string markdown = RunsTable.Markdown([.. r.GetValue(runs)!.Select(RunsTable.Read)]);
            io.Out.Write(markdown);
            if (r.GetValue(output) is { } path) Core.Io.AtomicFile.WriteAllText(path, markdown);
            return S2dApp.Success;
        }));
        cmd.Subcommands.Add(table);
        return cmd;
    }
}
