using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;

namespace SearchToDeploy.Tests.Nas;

public sealed class DerivationTests
{
    private static double[] Row(IReadOnlyList<string> ops, params (string Op, double W)[] set)
    {
        var r = Enumerable.Repeat(0.01, ops.Count).ToArray();
        foreach (var (op, w) in set) r[ops.ToList().IndexOf(op)] = w;
        return r;
    }

    [Fact]
    public void Darts_rule_keeps_the_two_strongest_edges_per_node_by_their_best_non_none_op()
    {
        var ops = OpRegistry.Darts;
        var w = new double[14][];
        for (int e = 0; e < 14; e++) w[e] = Row(ops);
        // Node 0 (edges 0, 1): none is the largest on edge 0 but is ignored; both edges kept, strongest first.
        w[0] = Row(ops, (OpRegistry.None, 0.9), (OpRegistry.Sep3, 0.05));
        w[1] = Row(ops, (OpRegistry.MaxPool3, 0.3));
        // Node 1 (edges 2-4): edge 4 (input 2 = node 0) and edge 2 (input 0) win over edge 3.
        w[2] = Row(ops, (OpRegistry.Dil5, 0.4));
        w[3] = Row(ops, (OpRegistry.Skip, 0.2));
        w[4] = Row(ops, (OpRegistry.Sep5, 0.5));
        var genes = Derivation.DartsCell(SearchSpaces.Darts.Normal, w, 4);
        Assert.Equal(new CellEdge(OpRegistry.MaxPool3, 1), genes[0]);
        Assert.Equal(new CellEdge(OpRegistry.Sep3, 0), genes[1]);
        Assert.Equal(new CellEdge(OpRegistry.Sep5, 2), genes[2]);
        Assert.Equal(new CellEdge(OpRegistry.Dil5, 0), genes[3]);
        Assert.Equal(8, genes.Count);
    }

    [Fact]
    public void Edge_weights_rescale_edges_before_ranking()
    {
        var ops = OpRegistry.Darts;
        var softmax = new double[14][];
        for (int e = 0; e < 14; e++) softmax[e] = Row(ops, (OpRegistry.Sep3, 0.5));
        softmax[2] = Row(ops, (OpRegistry.Skip, 0.6));
        var betas = Enumerable.Repeat(1.0 / 3, 14).ToArray();
        betas[2] = 0.1; betas[3] = 0.45; betas[4] = 0.45;   // node 1: edge 2 has the strongest op but a weak edge
        var effective = new CellWeights(softmax, betas).Effective;
        var genes = Derivation.DartsCell(SearchSpaces.Darts.Normal, effective, 4);
        Assert.DoesNotContain(genes.Skip(2).Take(2), g => g.Input == 0);
        Assert.All(genes.Skip(2).Take(2), g => Assert.Equal(OpRegistry.Sep3, g.Op));
    }

    [Fact]
    public void Nb201_rule_takes_the_argmax_including_none()
    {
        var ops = OpRegistry.Nb201;
        var w = new double[6][];
        for (int e = 0; e < 6; e++) w[e] = Row(ops, (OpRegistry.Conv3, 0.3));
        w[Nb201Arch.EdgeIndex(2, 1)] = Row(ops, (OpRegistry.None, 0.5), (OpRegistry.Conv3, 0.3));
        w[Nb201Arch.EdgeIndex(3, 0)] = Row(ops, (OpRegistry.Skip, 0.4));
        var arch = Derivation.Nb201(SearchSpaces.Nb201.Normal, w);
        Assert.Equal("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|", arch.ToString());
    }

    [Fact]
    public void Nb201_rule_without_none_takes_the_strongest_other_op()
    {
        var ops = OpRegistry.Nb201;
        var w = new double[6][];
        for (int e = 0; e < 6; e++) w[e] = Row(ops, (OpRegistry.Conv3, 0.3));
        w[Nb201Arch.EdgeIndex(2, 1)] = Row(ops, (OpRegistry.None, 0.5), (OpRegistry.Conv1, 0.2), (OpRegistry.Conv3, 0.1));
        w[Nb201Arch.EdgeIndex(3, 0)] = Row(ops, (OpRegistry.Skip, 0.4));
        var arch = Derivation.Nb201(SearchSpaces.Nb201.Normal, w, excludeNone: true);
        Assert.Equal("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|", arch.ToString());
    }

    [Fact]
    public void Deriving_without_none_reaches_the_supernet_and_is_refused_outside_nas_bench_201()
    {
        var o = SearchToDeploy.Runs.Search.SearchPresets.Create("cpu", "darts", SearchMethod.RfPcDarts) with { DeriveWithoutNone = true };
        var e = Assert.Throws<InputException>(o.Validate);
        Assert.Contains("--derive-without-none", e.Message);
        var nb = o with { Space = "nas-bench-201" };
        nb.Validate();

        // Through the supernet: α favours none on every edge; only the benchmark's own rule derives it.
        foreach (bool without in new[] { true, false })
        {
            using var net = SupernetFactory.Create(nb.SupernetConfig(10) with { Layers = 1, Channels = 8, DeriveWithoutNone = without });
            using (TorchSharp.torch.no_grad())
            {
                net.ArchParameters[0].zero_();
                using var noneColumn = net.ArchParameters[0].select(1, 0);
                noneColumn.fill_(1.0);
            }
            Assert.Equal(!without, net.Derive().Nb201!.ToString().Contains(OpRegistry.None));
        }
    }

    [Fact]
    public void Per_edge_candidate_lists_of_s1_name_the_right_ops()
    {
        var w = SearchSpaces.S1.Normal.Select(ops => new[] { 0.2, 0.8 }).ToArray();
        var genes = Derivation.DartsCell(SearchSpaces.S1.Normal, w, 4);
        Assert.Equal(OpRegistry.Dil3, genes.First(g => g.Input == 0).Op);   // edge 0: [skip, dil3]
        var reduce = Derivation.DartsCell(SearchSpaces.S1.Reduce, w, 4);
        Assert.Contains(reduce, g => g.Op == OpRegistry.AvgPool3);
    }

    [Fact]
    public void Nb201_decisions_give_each_edge_its_winner_and_rival_and_follow_the_none_rule()
    {
        var ops = OpRegistry.Nb201;
        var w = new double[6][];
        for (int e = 0; e < 6; e++) w[e] = Row(ops, (OpRegistry.Conv3, 0.4), (OpRegistry.Conv1, 0.2));
        w[Nb201Arch.EdgeIndex(2, 1)] = Row(ops, (OpRegistry.None, 0.3), (OpRegistry.AvgPool3, 0.27), (OpRegistry.Conv3, 0.1));
        var effective = new Dictionary<string, double[][]> { ["normal"] = w };

        var d = Derivation.Decisions(SearchSpaces.Nb201, effective, 4, excludeNone: false);
        Assert.Equal(6, d.Count);
        var weakest = d.MinBy(x => x.Lead)!;
        Assert.Equal("edge 1->2: none over avg_pool_3x3", weakest.What);
        Assert.Equal(0.1, weakest.Lead, 12);                                  // (0.3 - 0.27) / 0.3
        Assert.All(d.Where(x => x != weakest), x => Assert.Equal(0.5, x.Lead, 12));

        var without = Derivation.Decisions(SearchSpaces.Nb201, effective, 4, excludeNone: true);
        Assert.Equal("edge 1->2: avg_pool_3x3 over nor_conv_3x3", without[2].What);
        Assert.Equal(1 - 0.1 / 0.27, without[2].Lead, 12);
    }

    [Fact]
    public void Darts_decisions_cover_the_kept_inputs_of_each_node_and_the_op_on_each_kept_edge()
    {
        var ops = OpRegistry.Darts;
        var w = new double[14][];
        for (int e = 0; e < 14; e++) w[e] = Row(ops, (OpRegistry.Sep3, 0.5 - 0.02 * e), (OpRegistry.MaxPool3, 0.1));
        // Node 3 (edges 2-4): edge 4 leads, edge 2 keeps its place over edge 3 by 0.40 vs 0.36; on edge 2, dil_conv_5x5
        // leads skip_connect by 0.40 vs 0.38 (5%, the weakest choice; node 4 keeps input 1 over 2 by 0.38 vs 0.36, 5.3%),
        // while none (0.9 on edge 3) is never a rival.
        w[2] = Row(ops, (OpRegistry.Dil5, 0.40), (OpRegistry.Skip, 0.38));
        w[3] = Row(ops, (OpRegistry.None, 0.9), (OpRegistry.Sep5, 0.36));
        var effective = new Dictionary<string, double[][]> { ["normal"] = w, ["reduce"] = w };

        var d = Derivation.Decisions(SearchSpaces.Darts, effective, 4, excludeNone: false);
        Assert.Equal(2 * (3 + 8), d.Count);                                   // per cell: nodes 3-5 choose inputs, 8 kept edges choose ops
        var weakest = d.MinBy(x => x.Lead)!;
        Assert.Equal("normal edge 0->3: dil_conv_5x5 over skip_connect", weakest.What);
        Assert.Equal(0.02 / 0.40, weakest.Lead, 12);
        var inputs = d.Single(x => x.What.StartsWith("normal node 3:", StringComparison.Ordinal));
        Assert.Equal("normal node 3: input 0 over input 1", inputs.What);
        Assert.Equal(0.04 / 0.40, inputs.Lead, 12);
        Assert.Equal(Derivation.DartsCell(SearchSpaces.Darts.Normal, w, 4)[3], new CellEdge(OpRegistry.Dil5, 0));
    }
}
