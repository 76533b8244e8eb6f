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
                .Select(j => (Input: j, Strength: BestNonNone(edgeOps[start + j], weights[start + j]).Weight))
                .OrderByDescending(e => e.Strength) // stable: ties keep the lower input first
                .Take(2);
            foreach (var (input, _) in ranked)
                genes.Add(new CellEdge(edgeOps[start + input][BestNonNone(edgeOps[start + input], weights[start + input]).Index], input));
        }
        return genes;
    }

    private static (int Index, double Weight) BestNonNone(IReadOnlyList<string> ops, double[] w)
    {
        int best = -1;
        for (int k = 0; k < ops.Count; k++)
            if (ops[k] != Ops.OpRegistry.None && (best < 0 || w[k] > w[best])) best = k;
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
        for (int e = 0; e < edgeOps.Count; e++)
        {
            int best = -1;
            for (int k = 0; k < edgeOps[e].Count; k++)
            {
                if (excludeNone && edgeOps[e][k] == OpRegistry.None) continue;
                if (best < 0 || weights[e][k] > weights[e][best]) best = k;
            }
            if (best < 0) throw new ArgumentException($"edge {e} has no op other than '{OpRegistry.None}'");
            ops[e] = edgeOps[e][best];
        }
        return new Nb201Arch(ops);
    }
}
