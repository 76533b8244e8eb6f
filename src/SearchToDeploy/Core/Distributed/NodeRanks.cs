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
    public static int LocalSize => Math.Max(1, First("OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS") ?? SlurmTasksHere() ?? 1);

    /// <summary>
    /// The CPU threads of one rank when none are asked for. A launcher that binds each rank to its own cores (Open MPI
    /// does by default) leaves this process fewer cores than the machine has: they are all its own. A rank that sees the
    /// whole machine shares it with the other ranks there.
    /// </summary>
    public static int DefaultThreads => DefaultThreadsOf(Environment.ProcessorCount, OnlineCpus() ?? Environment.ProcessorCount, LocalSize);

    /// <summary><paramref name="visible"/> cores of <paramref name="machine"/>, shared with <paramref name="ranks"/> ranks when they are the whole machine.</summary>
    public static int DefaultThreadsOf(int visible, int machine, int ranks) => visible < machine ? visible : Math.Max(1, visible / Math.Max(1, ranks));

    /// <summary>
    /// Slurm's tasks of this step on this node: SLURM_STEP_TASKS_PER_NODE lists them per node ("4", or "2(x3),1" for
    /// three nodes of 2 and one of 1), SLURM_NODEID says which node this is.
    /// </summary>
    public static int? SlurmTasksHere() =>
        SlurmTasksOn(Environment.GetEnvironmentVariable("SLURM_STEP_TASKS_PER_NODE"), First("SLURM_NODEID") ?? 0);

    public static int? SlurmTasksOn(string? perNode, int node)
    {
        if (string.IsNullOrEmpty(perNode)) return null;
        int index = 0;
        foreach (string part in perNode.Split(','))
        {
            var m = System.Text.RegularExpressions.Regex.Match(part.Trim(), @"^(\d+)(?:\(x(\d+)\))?$");
            if (!m.Success) return null;
            int tasks = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), nodes = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 1;
            if (node < index + nodes) return tasks;
            index += nodes;
        }
        return null;
    }

    /// <summary>The machine's online CPUs (Linux: /sys/devices/system/cpu/online, e.g. "0-15" or "0-3,8-11"); null where unknown.</summary>
    private static int? OnlineCpus()
    {
        try
        {
            string text = File.ReadAllText("/sys/devices/system/cpu/online").Trim();
            int count = 0;
            foreach (string range in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var ends = range.Split('-');
                int first = int.Parse(ends[0], CultureInfo.InvariantCulture), last = ends.Length > 1 ? int.Parse(ends[1], CultureInfo.InvariantCulture) : first;
                count += last - first + 1;
            }
            return count > 0 ? count : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException) { return null; }
    }

    private static int? First(params string[] names)
    {
        foreach (string name in names)
            if (EnvInt(name) is { } v) return v;
        return null;
    }

    /// <summary>The whole number a launcher's variable holds; null when it is unset or not one.</summary>
    internal static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : null;
}
