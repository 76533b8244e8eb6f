using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Runs.Search;

namespace SearchToDeploy.Tests.Nas;

public sealed class SearchPresetTests
{
    /// <summary>The cpu preset raises α's learning rate only where it was measured to help: the partial-channel
    /// methods in the DARTS space (a sixth of the paper's α steps); the paper preset keeps the published rates.</summary>
    [Theory]
    [InlineData("darts", "rf-pcdarts", 6e-4, 3e-3)]
    [InlineData("darts", "pc-darts", 6e-4, 3e-3)]
    [InlineData("darts", "rf-darts", 3e-4, 3e-4)]
    [InlineData("darts", "darts", 3e-4, 3e-4)]
    [InlineData("s1", "rf-pcdarts", 6e-4, 6e-4)]
    [InlineData("nas-bench-201", "rf-pcdarts", 3e-4, 3e-4)]
    public void Architecture_learning_rates(string space, string methodName, double paper, double cpu)
    {
        var method = SearchMethod.Parse(methodName);
        Assert.Equal(paper, SearchPresets.Create("paper", space, method).ArchLearningRate, 12);
        Assert.Equal(cpu, SearchPresets.Create("cpu", space, method).ArchLearningRate, 12);
    }
}
