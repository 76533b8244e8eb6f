using SearchToDeploy.Core.Torch;

namespace SearchToDeploy.Tests.Core;

/// <summary>Device and threads resolved once: 0 threads means all cores (applying them is left out here: torch's thread
/// count is global, and tests running beside this one would see it change).</summary>
public sealed class ComputeTests
{
    [Fact]
    public void Zero_threads_means_all_cores()
    {
        var all = Compute.Resolve("cpu", 0);
        Assert.Equal(Environment.ProcessorCount, all.Threads);
        Assert.True(all.IsCpu);
        Assert.Equal("cpu", all.DeviceName);
        Assert.Equal($"on cpu ({Environment.ProcessorCount} threads)", all.ToString());
        Assert.Equal(3, Compute.Resolve("auto", 3).Threads);
    }

    [Fact]
    public void A_device_this_machine_lacks_is_bad_input_naming_the_option()
    {
        var e = Assert.Throws<InputException>(() => Compute.Resolve("cuda", 2));
        Assert.Contains("--device cuda", e.Message);
    }
}
