using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Tests.Nas;

/// <summary>Random cells: a seed gives one valid cell of the space, never with none on a DARTS-style edge.</summary>
public sealed class RandomArchitectureTests
{
    [Theory]
    [InlineData("darts")]
    [InlineData("s1")]
    [InlineData("s3")]
    [InlineData("nas-bench-201")]
    public void A_seed_gives_the_same_valid_cell_of_the_space(string name)
    {
        var space = SearchSpaces.Get(name);
        var a = RandomArchitecture.Sample(space, 7);
        Assert.Equal(a.Text, RandomArchitecture.Sample(space, 7).Text);
        Assert.Equal(a.Text, Architecture.ParseText(a.Text, space.Name).Text);
        Assert.Contains(Enumerable.Range(0, 20), s => RandomArchitecture.Sample(space, s).Text != a.Text);
        if (space.Kind == SpaceKind.Nb201) return;
        foreach (bool reduction in new[] { false, true })
        {
            var edges = a.Cell!.Cell(reduction);
            Assert.DoesNotContain(edges, e => e.Op == "none");
            for (int node = 0; node < edges.Count / 2; node++)
            {
                var (x, y) = (edges[2 * node], edges[2 * node + 1]);
                Assert.True(x.Input < y.Input, $"node {node}: inputs {x.Input}, {y.Input}");
                Assert.Contains(x.Op, space.EdgesOf(reduction)[SearchSpace.DartsEdgeStart(node) + x.Input]);
                Assert.Contains(y.Op, space.EdgesOf(reduction)[SearchSpace.DartsEdgeStart(node) + y.Input]);
            }
        }
    }
}
