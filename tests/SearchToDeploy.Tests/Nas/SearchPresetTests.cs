using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Runs.Search;

namespace SearchToDeploy.Tests.Nas;

public sealed class SearchPresetTests
{
    /// <summary>The cpu preset raises α's learning rate only where it was measured to help: the partial-channel
    /// methods in the DARTS space (a sixth of the paper's α steps); the paper preset keeps the published rates.</summary>
    [Theory]
    [InlineData("darts", SearchMethod.RfPcDarts, 6e-4, 3e-3)]
    [InlineData("darts", SearchMethod.PcDarts, 6e-4, 3e-3)]
    [InlineData("darts", SearchMethod.RfDarts, 3e-4, 3e-4)]
    [InlineData("darts", SearchMethod.Darts, 3e-4, 3e-4)]
    [InlineData("s1", SearchMethod.RfPcDarts, 6e-4, 6e-4)]
    [InlineData("nas-bench-201", SearchMethod.RfPcDarts, 3e-4, 3e-4)]
    public void Architecture_learning_rates(string space, SearchMethod method, double paper, double cpu)
    {
        Assert.Equal(paper, SearchPresets.Create("paper", space, method).ArchLearningRate, 12);
        Assert.Equal(cpu, SearchPresets.Create("cpu", space, method).ArchLearningRate, 12);
    }
}
