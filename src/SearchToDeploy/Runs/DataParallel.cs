using SearchToDeploy.Core.Distributed;
using SearchToDeploy.Data;
using static TorchSharp.torch;

namespace SearchToDeploy.Runs;

/// <summary>
/// What search and training do alike in a data-parallel run (<see cref="IGradientSync"/> with more than one rank):
/// each rank loads its share of every batch, BatchNorm keeps per-rank batch statistics while training (as PyTorch's
/// DistributedDataParallel does) and its running statistics are averaged over the ranks before each evaluation and
/// checkpoint, and a run resumes only with the number of ranks it was started with.
/// </summary>
public static class DataParallel
{
    /// <summary>The loader options of this rank's share.</summary>
    public static LoaderOptions Shard(this IGradientSync sync, LoaderOptions options) =>
        sync.Size == 1 ? options : options with { Rank = sync.Rank, Ranks = sync.Size };

    /// <summary>
    /// While a data-parallel step runs on <paramref name="batch"/>: its place in the whole batch, for the ops that draw per
    /// image (<see cref="Nas.Ops.BatchShare"/>); null in one process.
    /// </summary>
    public static IDisposable? Share(this IGradientSync sync, HostBatch batch) =>
        sync.Size > 1 ? Nas.Ops.BatchShare.Enter(batch.Offset, batch.Whole) : null;

    /// <summary>Averages the BatchNorm running means and variances of <paramref name="net"/> over the ranks.</summary>
    public static void AverageBatchNormStatistics(this IGradientSync sync, nn.Module net)
    {
        if (sync.Size == 1) return;
        var stats = net.named_buffers()
            .Where(b => b.name.EndsWith("running_mean", StringComparison.Ordinal) || b.name.EndsWith("running_var", StringComparison.Ordinal))
            .Select(b => b.buffer).ToList();
        sync.AverageValues(stats);
    }

    /// <summary>Bad input unless a checkpoint written by <paramref name="savedRanks"/> ranks is resumed by as many.</summary>
    public static void CheckResumeRanks(this IGradientSync sync, int savedRanks, string checkpoint)
    {
        int saved = Math.Max(1, savedRanks);
        if (saved != sync.Size)
            throw new InputException($"{checkpoint}: the run was started with {saved} rank{(saved == 1 ? "" : "s")} and resumes only with as many " +
                                     $"(each rank's share of a batch, and so the steps, depend on it); this is {sync.Size}: " +
                                     (saved == 1 ? "resume without mpirun" : $"resume with mpirun -np {saved}"));
    }

    /// <summary>Bad input for settings a data-parallel run cannot take.</summary>
    public static void CheckSettings(this IGradientSync sync, int batchSize, bool parallelSteps)
    {
        if (sync.Size == 1) return;
        if (batchSize % sync.Size != 0)
            throw new InputException($"--batch-size {batchSize}: expected a multiple of the {sync.Size} ranks (each rank takes an equal share of every batch)");
        if (parallelSteps)
            throw new InputException($"--parallel-steps: not with {sync.Size} MPI ranks (it splits one process's step over two threads); drop it");
    }
}
