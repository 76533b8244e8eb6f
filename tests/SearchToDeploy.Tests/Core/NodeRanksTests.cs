using SearchToDeploy.Core.Distributed;
using SearchToDeploy.Core.Torch;

namespace SearchToDeploy.Tests.Core;

/// <summary>Ranks on one machine take one GPU each and share its cores, as the launcher describes them.</summary>
public sealed class NodeRanksTests
{
    [Fact]
    public void Ranks_on_one_machine_share_its_cores_and_take_its_gpus_in_turn()
    {
        Assert.Equal((0, 1), (NodeRanks.LocalRank, NodeRanks.LocalSize)); // not launched by MPI
        Assert.Equal(Environment.ProcessorCount, Compute.Resolve("cpu", 0).Threads);
        try
        {
            Environment.SetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_RANK", "3");
            Environment.SetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE", "4");
            Assert.Equal((3, 4), (NodeRanks.LocalRank, NodeRanks.LocalSize));
            Assert.Equal(Math.Max(1, Environment.ProcessorCount / 4), Compute.Resolve("cpu", 0).Threads);
            Assert.Equal(5, Compute.Resolve("cpu", 5).Threads); // asked for: as asked
        }
        finally
        {
            Environment.SetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_RANK", null);
            Environment.SetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE", null);
        }
        Environment.SetEnvironmentVariable("SLURM_LOCALID", "1");
        try { Assert.Equal(1, NodeRanks.LocalRank); }
        finally { Environment.SetEnvironmentVariable("SLURM_LOCALID", null); }
        // A rank bound to its own cores keeps them all; one that sees the whole machine takes its share.
        Assert.Equal((8, 4, 1), (NodeRanks.DefaultThreadsOf(8, 16, 4), NodeRanks.DefaultThreadsOf(16, 16, 4), NodeRanks.DefaultThreadsOf(2, 2, 4)));
        // Slurm's tasks per node: "2(x3),1" is three nodes of 2 tasks and one of 1.
        Assert.Equal([2, 2, 2, 1, null], Enumerable.Range(0, 5).Select(n => NodeRanks.SlurmTasksOn("2(x3),1", n)));
        Assert.Equal(4, NodeRanks.SlurmTasksOn("4", 0));
        Assert.Null(NodeRanks.SlurmTasksOn(null, 0));
        // Rank 3 of a machine: its own GPU of 4, the second of 2 (ranks share GPUs in turn), the only one of 1.
        Assert.Equal((3, 1, 0), (TorchDevices.DefaultIndex(3, 4), TorchDevices.DefaultIndex(3, 2), TorchDevices.DefaultIndex(3, 1)));
    }
}
