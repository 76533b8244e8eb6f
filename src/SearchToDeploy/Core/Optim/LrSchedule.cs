
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

public sealed record LrSchedule(ScheduleKind Kind, double Base, int Epochs, double Min = 0, double Gamma = 0.97, int WarmupEpochs = 0)
{
    /// <summary>The learning rate of epoch <paramref name="epoch"/> (0-based), with a linear warm-up over the first epochs.</summary>
    public double At(int epoch)
    {
        if (epoch < WarmupEpochs) return Base * (epoch + 1) / WarmupEpochs;
        return Kind switch
        {
            ScheduleKind.Cosine => Min + (Base - Min) * (1 + Math.Cos(Math.PI * epoch / Epochs)) / 2,
            ScheduleKind.Step => Base * Math.Pow(Gamma, epoch),
            _ => Epochs - epoch > 5
                ? Base * (Epochs - 5 - epoch) / (Epochs - 5)
                : Base * (Epochs - epoch) / ((Epochs - 5) * 5.0),
        };
    }

    public static ScheduleKind Parse(string name) => name.ToLowerInvariant() switch
    {
        "cosine" => ScheduleKind.Cosine,
        "step" => ScheduleKind.Step,
        "linear" => ScheduleKind.Linear,
        _ => throw new InputException($"--schedule '{name}': expected cosine, step or linear"),
    };
}
