namespace SearchToDeploy.Tests;

/// <summary>
/// Tests that measure the process's native memory, or watch a process-wide pool, run alone, after the parallel ones:
/// other tests allocating at the same time would show up in their figures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}
