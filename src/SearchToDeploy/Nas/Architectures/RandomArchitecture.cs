using SearchToDeploy.Core;
using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Nas.Architectures;

/// <summary>
/// A cell drawn uniformly at random from a search space with a seed: the baseline every searched cell must beat. A
/// DARTS-style cell takes, for each node, two distinct inputs among the earlier states and on each edge one of its
/// candidates other than none (as derived cells never hold none); a NAS-Bench-201 cell one of the five ops per edge.
/// </summary>
public static class RandomArchitecture
{
    public static Architecture Sample(SearchSpace space, long seed, int steps = 4)
    {
        var rng = Rng.For(seed, 0xCE11);
        if (space.Kind == SpaceKind.Nb201)
            return Architecture.FromNb201(new Nb201Arch([.. space.Normal.Select(ops => ops[rng.NextInt(ops.Count)])]));
        if (SearchSpace.DartsEdgeCount(steps) != space.Edges)
            throw new InputException($"space {space.Name} has {space.Edges} edges per cell, not the {SearchSpace.DartsEdgeCount(steps)} of {steps} nodes");
        IReadOnlyList<CellEdge> Cell(IReadOnlyList<IReadOnlyList<string>> edges, ref Rng r)
        {
            var chosen = new List<CellEdge>();
            for (int node = 0; node < steps; node++)
            {
                int inputs = node + 2;
                int a = r.NextInt(inputs), b = r.NextInt(inputs - 1);
                if (b >= a) b++;
                foreach (int input in new[] { Math.Min(a, b), Math.Max(a, b) })
                {
                    var candidates = edges[SearchSpace.DartsEdgeStart(node) + input].Where(op => op != Ops.OpRegistry.None).ToArray();
                    chosen.Add(new CellEdge(candidates[r.NextInt(candidates.Length)], input));
                }
            }
            return chosen;
        }
        var concat = Enumerable.Range(2, steps).ToArray();
        var normal = Cell(space.Normal, ref rng);
        var reduce = Cell(space.Reduce, ref rng);
        var genotype = new DartsGenotype(normal, concat, reduce, concat);
        genotype.Validate($"random {space.Name} cell");
        return Architecture.FromCell(space.Name, genotype);
    }
}
