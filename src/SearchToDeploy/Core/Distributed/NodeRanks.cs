using System.Globalization;

namespace SearchToDeploy.Core.Distributed;

/// <summary>
/// This process's place among the ranks of a data-parallel job on its own machine, as the launcher tells it (Open MPI's
/// mpirun, MPICH's Hydra, Slurm's srun): which GPU it takes and how many CPU cores it may use by default.
/// </summary>
public static class NodeRanks
{
    /// <summary>The rank on this machine (0 when not launched by MPI).</summary>
    public static int LocalRank => First("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID") ?? 0;

    /// <summary>The ranks on this machine (1 when not launched by MPI, or when the launcher does not say).</summary>
    public static int LocalSize => Math.Max(1, First("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS") ?? 1);

    /// <summary>The CPU threads of one rank when none are asked for: this process's cores shared out among the ranks on this machine.</summary>
    public static int DefaultThreads => Math.Max(1, Environment.ProcessorCount / LocalSize);

    private static int? First(params string[] names)
    {
        foreach (string name in names)
            if (int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int v)) return v;
        return null;
    }
}
