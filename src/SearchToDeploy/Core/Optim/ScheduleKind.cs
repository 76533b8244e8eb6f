
namespace SearchToDeploy.Core.Optim;

/// <summary>Per-epoch learning-rate schedules of the published retraining recipes.</summary>
public enum ScheduleKind
{
    /// <summary>DARTS CIFAR: cosine annealing from the base rate to the minimum over the epochs.</summary>
    Cosine,
    /// <summary>DARTS ImageNet: StepLR, ×gamma (0.97) every epoch.</summary>
    Step,
    /// <summary>PC-DARTS ImageNet: linear decay to 0, the last 5 epochs at a fifth of the slope.</summary>
    Linear,
}
