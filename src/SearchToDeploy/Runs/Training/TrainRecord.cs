
namespace SearchToDeploy.Runs.Training;

/// <summary>One retraining epoch: what the log, metrics.csv, the TensorBoard events and the plots show.</summary>
public sealed record TrainRecord
{
    public int Epoch { get; init; }
    public double LearningRate { get; init; }
    public double DropPath { get; init; }
    public double TrainLoss { get; init; }
    public double TrainTop1 { get; init; }
    public double ValidLoss { get; init; }
    public double ValidTop1 { get; init; }
    public double ValidTop5 { get; init; }
    public double Seconds { get; init; }
    public double ImagesPerSecond { get; init; }
    public double WallTime { get; init; }
}
