using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Nas.Architectures;

/// <summary>
/// Turning architecture weights into an architecture. DARTS rule: for each intermediate node keep the two incoming
/// edges whose strongest non-"none" op is strongest (ties to the lower edge), and on each the strongest non-"none" op
/// (ties to the first). PC-DARTS multiplies each edge's softmaxed α by its node-normalised β first. NAS-Bench-201
/// rule: the argmax over all ops of each edge, "none" included (optionally excluded).
/// </summary>
public static class Derivation
{
    /// <param name="weights">Per edge, the softmaxed α (already scaled by edge weights for PC methods).</param>
    public static IReadOnlyList<CellEdge> DartsCell(IReadOnlyList<IReadOnlyList<string>> edgeOps, double[][] weights, int steps) =>
        [.. DartsChoices(edgeOps, weights, steps).SelectMany(n => n.Kept).Select(k => new CellEdge(k.Op, k.Input))];

    /// <summary>
    /// The DARTS rule's choices node by node: the two kept inputs (strongest first) with their ops, and the
    /// strongest input left out (null when the node has only two). <see cref="DartsCell"/> and
    /// <see cref="Decisions"/> read the same choices.
    /// </summary>
    private static IEnumerable<(int Node, List<(int Input, int Edge, string Op, OpRank Rank)> Kept, (int Input, double Strength)? Dropped)> DartsChoices(
        IReadOnlyList<IReadOnlyList<string>> edgeOps, double[][] weights, int steps)
    {
        for (int node = 0; node < steps; node++)
        {
            int start = SearchSpace.DartsEdgeStart(node), count = node + 2;
            var ranked = Enumerable.Range(0, count)
                .Select(j => (Input: j, Rank: Rank(edgeOps[start + j], weights[start + j], skipNone: true)))
                .OrderByDescending(e => e.Rank.Weight) // stable: ties keep the lower input first
                .ToList();
            var kept = ranked.Take(2).Select(e => (e.Input, start + e.Input, edgeOps[start + e.Input][e.Rank.Index], e.Rank)).ToList();
            yield return (node, kept, ranked.Count > 2 ? (ranked[2].Input, ranked[2].Rank.Weight) : null);
        }
    }

    /// <summary>An edge's strongest op and the strongest of the rest (its runner-up; -∞ when there is none).</summary>
    private readonly record struct OpRank(int Index, double Weight, int RunnerUp, double RunnerUpWeight);

    /// <summary>The edge's op with the largest weight (the first on ties), optionally among those other than none;
    /// an edge with nothing to choose from ranks below every other (weight -∞).</summary>
    private static OpRank Rank(IReadOnlyList<string> ops, double[] w, bool skipNone)
    {
        int best = -1, second = -1;
        for (int k = 0; k < ops.Count; k++)
        {
            if (skipNone && ops[k] == OpRegistry.None) continue;
            if (best < 0 || w[k] > w[best]) { second = best; best = k; }
            else if (second < 0 || w[k] > w[second]) second = k;
        }
        return best < 0
            ? new OpRank(0, double.NegativeInfinity, -1, double.NegativeInfinity)
            : new OpRank(best, w[best], second, second < 0 ? double.NegativeInfinity : w[second]);
    }

    public static DartsGenotype Darts(SearchSpace space, double[][] normal, double[][] reduce, int steps)
    {
        var concat = Enumerable.Range(2, steps).ToList();
        return new DartsGenotype(DartsCell(space.Normal, normal, steps), concat, DartsCell(space.Reduce, reduce, steps), concat);
    }

    /// <summary>
    /// The NAS-Bench-201 rule: on each edge the op with the largest weight, <c>none</c> included (xautodl's
    /// genotype()); with <paramref name="excludeNone"/>, the largest among the other ops (as the DARTS rule does).
    /// </summary>
    public static Nb201Arch Nb201(IReadOnlyList<IReadOnlyList<string>> edgeOps, double[][] weights, bool excludeNone = false)
    {
        var ops = new string[edgeOps.Count];
        for (int e = 0; e < edgeOps.Count; e++) ops[e] = edgeOps[e][Rank(edgeOps[e], weights[e], excludeNone).Index];
        return new Nb201Arch(ops);
    }

    /// <summary>
    /// Every choice the space's rule makes from these weights (per cell type, the effective weights: softmax(α),
    /// scaled by β̂ for PC methods), with the winner's and the runner-up's weight: which op on each kept edge
    /// and, in DARTS-style cells, which two inputs per node. How far the winners lead says how firmly the weights
    /// decide the cell; a search stopped while they are near uniform picks its cell by a hair.
    /// </summary>
    public static IReadOnlyList<Decision> Decisions(SearchSpace space, IReadOnlyDictionary<string, double[][]> effective, int steps, bool excludeNone)
    {
        var found = new List<Decision>();
        if (space.Kind == SpaceKind.Nb201)
        {
            var w = effective["normal"];
            for (int e = 0; e < w.Length; e++)
            {
                var r = Rank(space.Normal[e], w[e], excludeNone);
                var (to, from) = Nb201CellKind.EdgeKeys[e];
                if (r.RunnerUp >= 0)
                    found.Add(new Decision($"edge {from}->{to}: {space.Normal[e][r.Index]} over {space.Normal[e][r.RunnerUp]}", r.Weight, r.RunnerUpWeight));
            }
            return found;
        }
        foreach (var (cell, w) in effective)
        {
            var ops = space.EdgesOf(cell == "reduce");
            foreach (var (node, kept, dropped) in DartsChoices(ops, w, steps))
            {
                if (dropped is { } d)
                    found.Add(new Decision($"{cell} node {node + 2}: input {kept[1].Input} over input {d.Input}", kept[1].Rank.Weight, d.Strength));
                foreach (var k in kept.Where(k => k.Rank.RunnerUp >= 0))
                    found.Add(new Decision($"{cell} edge {k.Input}->{node + 2}: {k.Op} over {ops[k.Edge][k.Rank.RunnerUp]}", k.Rank.Weight, k.Rank.RunnerUpWeight));
            }
        }
        return found;
    }
}
