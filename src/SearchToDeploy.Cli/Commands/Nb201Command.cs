using System.CommandLine;
using System.Globalization;
using SearchToDeploy.Data;
using SearchToDeploy.Nas.Architectures;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d nb201 --arch '|...|' --table accuracy.tsv</c>: look an architecture up in a NAS-Bench-201 table.</summary>
public static class Nb201Command
{
    public static Command Create(CliIo io)
    {
        var arch = new Option<string>("--arch") { Description = "Arch string |op~0|+|op~0|op~1|+|op~0|op~1|op~2|, or a genotype.json", Required = true };
        var table = new Option<string?>("--table") { Description = "Accuracy table (TSV; default <data root>/nas-bench-201/accuracy.tsv)" };
        var root = CommonOptions.DataRoot();
        var cmd = new Command("nb201", "Print a NAS-Bench-201 architecture's accuracies from a benchmark table");
        cmd.Options.Add(arch);
        cmd.Options.Add(table);
        cmd.Options.Add(root);
        cmd.SetAction(r => io.Guard(() =>
        {
            var a = CommonOptions.LoadGenotype(r.GetValue(arch)!).Architecture;
            if (a.Nb201 is null) throw new InputException($"--arch: {a.Text} is not a NAS-Bench-201 cell");
            string path = r.GetValue(table) ?? Path.Combine(DataRoot.Resolve(r.GetValue(root)), "nas-bench-201", "accuracy.tsv");
            var t = Nb201Table.Load(path);
            var e = t.Lookup(a.Nb201);
            io.Out.WriteLine($"arch: {e.Arch}");
            io.Out.WriteLine($"index: {e.Index}");
            foreach (var (col, v) in e.Accuracies)
            {
                if (v is null) { io.Out.WriteLine($"{col}: (not in table)"); continue; }
                var (best, _) = t.Best(col);
                io.Out.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0}: {1:0.00} (best {2:0.00}, better than {3:0.00}% of cells)", col, v, best, 100 * t.Percentile(col, v.Value)));
            }
            return S2dApp.Success;
        }));
        return cmd;
    }
}
