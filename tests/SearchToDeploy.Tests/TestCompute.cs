using SearchToDeploy.Core.Torch;

namespace SearchToDeploy.Tests;

/// <summary>What the tests run on: the CPU with all its cores (the runs' options leave device and threads at their defaults).</summary>
public static class TestCompute
{
    public static Compute Cpu => Compute.Resolve("cpu", 0);
}
