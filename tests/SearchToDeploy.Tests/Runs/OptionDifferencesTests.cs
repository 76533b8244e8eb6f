using SearchToDeploy.Core.Checkpoints;

namespace SearchToDeploy.Tests.Runs;

public class OptionDifferencesTests
{
    private const string Saved = """
        {"Seed": 2, "Threads": 1, "LearningRate": 0.05,
         "SearchSpace": {"Name": "s1", "Edges": 14, "Normal": [["skip_connect", "sep_conv_3x3"], ["dil_conv_3x3", "max_pool_3x3"]]}}
        """;

    [Fact]
    public void Same_settings_and_runtime_only_changes_give_no_difference()
    {
        Assert.Empty(CheckpointFile.OptionDifferences(typeof(SearchToDeploy.Runs.Search.SearchOptions), Saved, Saved.Replace("\"Threads\": 1", "\"Threads\": 2")));
    }

    [Fact]
    public void Each_changed_key_is_named_with_both_values()
    {
        var d = CheckpointFile.OptionDifferences(typeof(SearchToDeploy.Runs.Search.SearchOptions), Saved, Saved.Replace("\"Seed\": 2", "\"Seed\": 3").Replace("0.05", "0.5"));
        Assert.Equal(["Seed: 2 -> 3", "LearningRate: 0.05 -> 0.5"], d);
    }

    [Fact]
    public void Another_nested_object_is_named_by_its_name_not_dumped()
    {
        string now = Saved.Replace("\"s1\"", "\"darts\"").Replace("14", "15");
        Assert.Equal(["SearchSpace: \"s1\" -> \"darts\""], CheckpointFile.OptionDifferences(typeof(SearchToDeploy.Runs.Search.SearchOptions), Saved, now));
    }

    [Fact]
    public void A_changed_object_of_the_same_name_is_followed_down_to_the_changed_entry()
    {
        string now = Saved.Replace("\"max_pool_3x3\"", "\"avg_pool_3x3\"");
        Assert.Equal(["SearchSpace.Normal[1][1]: \"max_pool_3x3\" -> \"avg_pool_3x3\""], CheckpointFile.OptionDifferences(typeof(SearchToDeploy.Runs.Search.SearchOptions), Saved, now));
    }

    [Fact]
    public void Long_values_are_cut()
    {
        string now = Saved.Replace("[\"skip_connect\", \"sep_conv_3x3\"], ", "");
        var d = Assert.Single(CheckpointFile.OptionDifferences(typeof(SearchToDeploy.Runs.Search.SearchOptions), Saved, now));
        Assert.StartsWith("SearchSpace.Normal: [[\"skip_connect\",\"sep_conv_3x3\"],[\"dil_conv_3x3\",", d);
        Assert.Contains("...", d);
        Assert.True(d.Length < 160, d);
    }
}
