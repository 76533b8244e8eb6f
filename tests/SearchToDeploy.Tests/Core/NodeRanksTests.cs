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
        // Rank 3 of a machine: its own GPU of 4, the second of 2 (ranks share GPUs in turn), the only one of 1.
        Assert.Equal((3, 1, 0), (TorchDevices.DefaultIndex(3, 4), TorchDevices.DefaultIndex(3, 2), TorchDevices.DefaultIndex(3, 1)));
    }
}
