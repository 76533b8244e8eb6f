
namespace SearchToDeploy.Runs.Search;

/// <summary>What one search epoch did and found; the run's history is a list of these (kept in the checkpoint).</summary>
public sealed record EpochRecord
{
    public int Epoch { get; init; }
    public double LearningRate { get; init; }
    public double TrainLoss { get; init; }
    public double TrainAccuracy { get; init; }
    /// <summary>Mean validation loss the architecture steps saw (NaN during warm-up).</summary>
    public double ArchLoss { get; init; }
    public double ValidLoss { get; init; }
    public double ValidAccuracy { get; init; }
    public double Seconds { get; init; }
    /// <summary>Training images plus, once α trains, architecture images, per second of the epoch's steps.</summary>
    public double ImagesPerSecond { get; init; }
    public required string Genotype { get; init; }
    /// <summary>Per cell type: softmax(α) per edge and, for PC methods, the node-normalised edge weights β̂.</summary>
    public required Dictionary<string, Nas.Supernets.CellWeights> Weights { get; init; }
    /// <summary>NAS-Bench-201 only, given a table: the table's accuracies of this epoch's cell.</summary>
    public Dictionary<string, double?>? Nb201 { get; init; }
    public double WallTime { get; init; }
}
