
namespace SearchToDeploy.Core.Optim;

/// <summary>A loss became NaN or infinite; the run stopped and its last good checkpoint (if any) is kept.</summary>
public sealed class DivergedException(string message) : Exception(message)
{
    /// <summary>
    /// The message for a loss that is not finite at a step of an epoch: what stopped, and which checkpoint is kept
    /// (the one after the epoch before, or none in the first epoch of a run).
    /// </summary>
    public static DivergedException At(int epoch, int step, string what, double value, string run, int firstEpoch, string advice) =>
        new($"epoch {epoch} step {step}: the {what} is {value}; the {run} stopped and " +
            Kept(epoch, firstEpoch) + advice);

    /// <summary>
    /// The message for parameters that are not finite after an epoch whose losses all were (a gradient that overflowed
    /// on the epoch's last step): the epoch's checkpoint is not written over the last good one.
    /// </summary>
    public static DivergedException AfterEpoch(int epoch, string what, string run, int firstEpoch, string advice) =>
        new($"after epoch {epoch}: the {what} hold NaN or infinite values; the {run} stopped and " + Kept(epoch, firstEpoch) + advice);

    private static string Kept(int epoch, int firstEpoch) =>
        epoch > firstEpoch || epoch > 0 ? $"the last good checkpoint (end of epoch {epoch - 1}) is kept. " : "no checkpoint had been written yet. ";
}
