using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Nas.Architectures;

namespace SearchToDeploy.Runs.Training;

/// <summary>The files of a training run folder; their names are written here and nowhere else.</summary>
public sealed record TrainRunFolder(string Dir)
{
    public const string Log = "log.txt", Best = "best.s2d", Last = "last.s2d", MetricsCsv = "metrics.csv", MetricsJson = "metrics.json", Curves = "curves.png";
    public const string Options = CheckpointFile.OptionsFileName, Genotype = GenotypeFile.FileName;

    public string this[string file] => Path.Combine(Dir, file);
}
