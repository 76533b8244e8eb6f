
namespace SearchToDeploy.Core.Optim;

public sealed record LrSchedule(ScheduleKind Kind, double Base, int Epochs, double Min = 0, double Gamma = 0.97, int WarmupEpochs = 0)
{
    /// <summary>
    /// The learning rate of epoch <paramref name="epoch"/> (0-based). A warm-up scales the schedule's own rate of the
    /// first epochs by (epoch + 1) / warm-up epochs, as PC-DARTS's train_imagenet.py does, so the rate joins the
    /// schedule where the warm-up ends instead of jumping.
    /// </summary>
    public double At(int epoch)
    {
        double lr = Kind switch
        {
            ScheduleKind.Cosine => Min + (Base - Min) * (1 + Math.Cos(Math.PI * epoch / Epochs)) / 2,
            ScheduleKind.Step => Base * Math.Pow(Gamma, epoch),
            _ => Epochs - epoch > 5
                ? Base * (Epochs - 5 - epoch) / (Epochs - 5)
                : Base * (Epochs - epoch) / ((Epochs - 5) * 5.0),
        };
        return epoch < WarmupEpochs ? lr * (epoch + 1) / WarmupEpochs : lr;
    }

    public static ScheduleKind Parse(string name) => name.ToLowerInvariant() switch
    {
        "cosine" => ScheduleKind.Cosine,
        "step" => ScheduleKind.Step,
        "linear" => ScheduleKind.Linear,
        _ => throw new InputException($"--schedule '{name}': expected cosine, step or linear"),
    };
}
