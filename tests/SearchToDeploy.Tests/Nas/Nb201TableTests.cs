using SearchToDeploy.Nas.Architectures;

namespace SearchToDeploy.Tests.Nas;

/// <summary>The NAS-Bench-201 accuracy table: an architecture's index is its row among the table's rows.</summary>
public sealed class Nb201TableTests
{
    [Fact]
    public void Blank_lines_do_not_shift_the_architecture_index_and_errors_name_the_file_line()
    {
        var archs = File.ReadLines(TestPaths.Nb201Table).Skip(1).Take(3).Select(l => l.Split('\t')[0]).ToArray();
        using var dir = new TempDir();
        File.WriteAllText(dir["t.tsv"], $"arch\tcifar10_test\n{archs[0]}\t90\n\n{archs[1]}\t91\n{archs[2]}\t92\n");
        var table = Nb201Table.Load(dir["t.tsv"]);
        Assert.Equal([0, 1, 2], archs.Select(a => table.Lookup(Nb201Arch.Parse(a)).Index));
        Assert.Equal(92, table.Lookup(Nb201Arch.Parse(archs[2])).Accuracies["cifar10_test"]);
        File.WriteAllText(dir["bad.tsv"], $"arch\tcifar10_test\n{archs[0]}\t90\n\n{archs[1]}\tninety\n");
        Assert.Contains("line 4", Assert.Throws<InputException>(() => Nb201Table.Load(dir["bad.tsv"])).Message);
    }
}
