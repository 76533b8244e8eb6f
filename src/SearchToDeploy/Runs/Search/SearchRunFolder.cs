using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Nas.Architectures;

namespace SearchToDeploy.Runs.Search;

/// <summary>The files of a search run folder; their names are written here and nowhere else.</summary>
public sealed record SearchRunFolder(string Dir)
{
    public const string Log = "log.txt", Checkpoint = "checkpoint.s2d", Summary = "summary.json", MetricsCsv = "metrics.csv", AlphasCsv = "alphas.csv",
        Curves = "curves.png", SelectionJournal = "selection.jsonl";
    public const string Options = CheckpointFile.OptionsFileName, Genotype = GenotypeFile.FileName;

    public string this[string file] => Path.Combine(Dir, file);

    /// <summary>The plot of how one cell type's op weights evolve.</summary>
    public static string AlphaPlot(string cell) => $"alphas_{cell}.png";
}
