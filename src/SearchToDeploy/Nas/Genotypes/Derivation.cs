using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Nas.Genotypes;

/// <summary>
/// Turning architecture weights into an architecture. DARTS rule: for each intermediate node keep the two incoming
/// edges whose strongest non-"none" op is strongest (ties to the lower edge), and on each the strongest non-"none" op
/// (ties to the first). PC-DARTS multiplies each edge's softmaxed α by its node-normalised β first. NAS-Bench-201
/// rule: the argmax over all ops of each edge, "none" included (optionally excluded).
/// </summary>
public static class Derivation
{
    /// <param name="weights">Per edge, the softmaxed α (already scaled by edge weights for PC methods).</param>
    public static IReadOnlyList<CellEdge> DartsCell(IReadOnlyList<IReadOnlyList<string>> edgeOps, double[][] weights, int steps)
    {
        var genes = new List<CellEdge>();
        for (int node = 0; node < steps; node++)
        {
            int start = SearchSpace.DartsEdgeStart(node), count = node + 2;
            var ranked = Enumerable.Range(0, count)
                .Select(j => (Input: j, Strength: Strongest(edgeOps[start + j], weights[start + j], skipNone: true).Weight))
                .OrderByDescending(e => e.Strength) // stable: ties keep the lower input first
                .Take(2);
            foreach (var (input, _) in ranked)
                genes.Add(new CellEdge(edgeOps[start + input][Strongest(edgeOps[start + input], weights[start + input], skipNone: true).Index], input));
        }
        return genes;
    }

    /// <summary>The edge's op with the largest weight (the first on ties), optionally among those other than none;
    /// an edge with nothing to choose from ranks below every other (weight -∞).</summary>
    private static (int Index, double Weight) Strongest(IReadOnlyList<string> ops, double[] w, bool skipNone)
    {
        int best = -1;
        for (int k = 0; k < ops.Count; k++)
            if (!(skipNone && ops[k] == OpRegistry.None) && (best < 0 || w[k] > w[best])) best = k;
        return best < 0 ? (0, double.NegativeInfinity) : (best, w[best]);
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
        for (int e = 0; e < edgeOps.Count; e++) ops[e] = edgeOps[e][Strongest(edgeOps[e], weights[e], excludeNone).Index];
        return new Nb201Arch(ops);
    }
}
