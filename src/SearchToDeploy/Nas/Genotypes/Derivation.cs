using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Nas.Genotypes;

/// <summary>
/// Turning architecture weights into an architecture. DARTS rule: for each intermediate node keep the two incoming
/// edges whose strongest non-"none" op is strongest (ties to the lower edge), and on each the strongest non-"none" op
/// (ties to the first). PC-DARTS multiplies each edge's softmaxed α by its node-normalised β first. NAS-Bench-201
/// rule: the argmax over all ops of each edge, "none" included.
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

    public static Nb201Arch Nb201(IReadOnlyList<IReadOnlyList<string>> edgeOps, double[][] weights)
    {
        var ops = new string[edgeOps.Count];
        for (int e = 0; e < edgeOps.Count; e++)
        {
            int best = 0;
            for (int k = 1; k < edgeOps[e].Count; k++) if (weights[e][k] > weights[e][best]) best = k;
            ops[e] = edgeOps[e][best];
        }
        return new Nb201Arch(ops);
    }
}
