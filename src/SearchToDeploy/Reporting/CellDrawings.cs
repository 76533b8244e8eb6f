using SearchToDeploy.Nas.Architectures;

namespace SearchToDeploy.Reporting;

/// <summary>The drawings of a cell in a run folder: cell_normal and cell_reduce (DARTS-style), or cell (NAS-Bench-201), each .svg and .dot.</summary>
public static class CellDrawings
{
    public const string Normal = "cell_normal", Reduce = "cell_reduce", Nb201 = "cell";

    /// <summary>Every SVG a run folder may hold, in the order a model card shows them.</summary>
    public static readonly IReadOnlyList<string> SvgFiles = [Nb201 + ".svg", Normal + ".svg", Reduce + ".svg"];

    public static void Draw(string dir, Architecture arch)
    {
        if (arch.Cell is { } g)
        {
            CellGraph.FromDarts("normal cell", g.Normal, g.NormalConcat).Save(Path.Combine(dir, Normal));
            CellGraph.FromDarts("reduction cell", g.Reduce, g.ReduceConcat).Save(Path.Combine(dir, Reduce));
        }
        else CellGraph.FromNb201("NAS-Bench-201 cell", arch.Nb201!).Save(Path.Combine(dir, Nb201));
    }
}
