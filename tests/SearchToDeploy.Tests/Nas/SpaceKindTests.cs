using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Tests.Nas;

/// <summary>The space-kind traits that runs, sweeps, benchmarks and the pipeline read instead of testing the kind.</summary>
public sealed class SpaceKindTests
{
    [Fact]
    public void Each_kind_knows_its_own_op_names_only()
    {
        Assert.True(SpaceKind.DartsCell.IsOp(OpRegistry.Sep3));
        Assert.False(SpaceKind.DartsCell.IsOp("nor_conv_3x3"));
        Assert.True(SpaceKind.Nb201.IsOp("nor_conv_3x3"));
        Assert.False(SpaceKind.Nb201.IsOp(OpRegistry.Sep3));
        foreach (var space in SearchSpaces.All)
            Assert.All(space.Normal.Concat(space.Reduce).SelectMany(e => e), op => Assert.True(space.Kind.IsOp(op), $"{space.Name}: {op}"));
    }

    [Fact]
    public void Edges_are_named_by_their_nodes()
    {
        Assert.Equal("edge 2<-1", SpaceKind.Nb201.EdgeTitle(2));
        Assert.Equal("edge 3<-2", SpaceKind.Nb201.EdgeTitle(5));
        Assert.Equal("edge 0: c_{k-2} -> node 0", SpaceKind.DartsCell.EdgeTitle(0));
        Assert.Equal("edge 4: node 0 -> node 1", SpaceKind.DartsCell.EdgeTitle(4));
        Assert.Equal("edge 13: node 2 -> node 3", SpaceKind.DartsCell.EdgeTitle(13));
    }

    [Fact]
    public void Only_darts_cells_transfer_and_only_nb201_cells_have_a_table()
    {
        Assert.True(SpaceKind.DartsCell.Transfers);
        Assert.False(SpaceKind.Nb201.Transfers);
        Assert.True(SpaceKind.Nb201.HasBenchmarkTable);
        Assert.False(SpaceKind.DartsCell.HasBenchmarkTable);
        Assert.True(SpaceKind.Nb201.DerivationMayKeepNone);
        Assert.False(SpaceKind.DartsCell.DerivationMayKeepNone);
    }

    [Fact]
    public void A_darts_space_refuses_a_node_count_that_does_not_match_its_edges()
    {
        SpaceKind.DartsCell.CheckShape(SearchSpaces.Darts, 4, 3);
        var e = Assert.Throws<InputException>(() => SpaceKind.DartsCell.CheckShape(SearchSpaces.Darts, 3, 3));
        Assert.Contains("14 edges per cell; 3 nodes need 9", e.Message);
        SpaceKind.Nb201.CheckShape(SearchSpaces.Nb201, 4, 1);
    }

    [Fact]
    public void A_darts_supernet_needs_a_normal_cell_and_nb201_cells_have_four_nodes()
    {
        // Two cells both reduce (at layers/3 and 2*layers/3): the normal cell's α would be trained by nothing.
        var e = Assert.Throws<InputException>(() => SpaceKind.DartsCell.CheckShape(SearchSpaces.Darts, 4, 2));
        Assert.Contains("--layers 2", e.Message);
        var nodes = Assert.Throws<InputException>(() => SpaceKind.Nb201.CheckShape(SearchSpaces.Nb201, 3, 5));
        Assert.Contains("--nodes 3: NAS-Bench-201 cells have 4 nodes", nodes.Message);
    }

    [Fact]
    public void Pools_of_a_darts_search_cell_get_their_batch_norm()
    {
        var cfg = new OpConfig(false);
        using var pool = SpaceKind.DartsCell.CreateCandidate(OpRegistry.MaxPool3, 8, 1, cfg);
        Assert.IsType<WithBatchNorm>(pool);
        using var nbPool = SpaceKind.Nb201.CreateCandidate("avg_pool_3x3", 8, 1, cfg);
        Assert.IsNotType<WithBatchNorm>(nbPool);
    }

    [Fact]
    public void Run_files_name_the_kind_as_before_and_every_written_form_compares_equal()
    {
        Assert.Equal("\"darts-cell\"", System.Text.Json.JsonSerializer.Serialize(SpaceKind.DartsCell));
        Assert.Equal("\"nb201\"", System.Text.Json.JsonSerializer.Serialize(SpaceKind.Nb201));
        foreach (var form in new[] { "\"nb201\"", "\"nas-bench-201\"", "{\"Name\": \"nas-bench-201\", \"Transfers\": false}" })
            Assert.Same(SpaceKind.Nb201, System.Text.Json.JsonSerializer.Deserialize<SpaceKind>(form));

        // A checkpoint from a build that wrote the kind as an object of traits resumes under today's options.
        var o = SearchRunTests.Tiny();
        string now = SearchToDeploy.Runs.Search.SearchRunner.OptionsJson(o);
        Assert.Contains("\"Kind\": \"nb201\"", now);
        string described = now.Replace("\"Kind\": \"nb201\"", "\"Kind\": {\"Name\": \"nas-bench-201\", \"HasBenchmarkTable\": true}");
        Assert.NotEmpty(SearchToDeploy.Core.Checkpoints.CheckpointFile.OptionDifferences(typeof(SearchToDeploy.Runs.Search.SearchOptions), described, now));
        Assert.Empty(SearchToDeploy.Core.Checkpoints.CheckpointFile.OptionDifferences(typeof(SearchToDeploy.Runs.Search.SearchOptions), SpaceKindJsonConverter.Normalise(described), now));
        Assert.Throws<System.Text.Json.JsonException>(() => System.Text.Json.JsonSerializer.Deserialize<SpaceKind>("\"hexagonal\""));
    }
}
