using System.Globalization;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>
/// Perturbation-based architecture selection (DARTS-PT: Wang et al., "Rethinking Architecture Selection in
/// Differentiable NAS", ICLR 2021): an op is chosen for what the trained supernet loses without it, not for the
/// size of its α. Edge by edge in a seeded random order, alternating the cell types, each candidate op is masked out
/// (its mixing weight set to 0, the others left as they are) and the supernet's loss measured on fixed held-out
/// batches; the op whose removal raises the loss most is kept and the edge becomes that op alone (weight 1). Then,
/// in DARTS-style cells, node by node in a seeded random order, the input edge whose removal raises the loss least
/// is removed until two remain. Unlike DARTS-PT there is no supernet fine-tuning between decisions. The supernet
/// runs in training mode (batch statistics, as DARTS-PT measures) without drop-path, its BN running statistics are
/// restored after.
/// "none" is never a candidate in DARTS-style cells (as in the DARTS rule); in NAS-Bench-201 it is unless
/// <see cref="SupernetConfig.DeriveWithoutNone"/>.
/// </summary>
public static class PerturbationSelection
{
    /// <summary>Evaluations a selection takes on this supernet (for progress lines).</summary>
    public static int Evaluations(Supernet net)
    {
        var space = net.Config.Space;
        int ops = net.CellParameters.Keys.Sum(cell => space.EdgesOf(cell == "reduce").Sum(e => Candidates(net.Config, e).Count));
        if (space.Kind != SpaceKind.DartsCell) return 2 + ops;
        int inputs = Enumerable.Range(0, net.Config.Steps).Sum(n => Enumerable.Range(3, n).Sum());
        return 2 + ops + net.CellParameters.Count * inputs;
    }

    /// <param name="batches">Held-out images and labels, the same for every measurement.</param>
    /// <param name="log">Receives one line per decision and progress lines.</param>
    /// <param name="known">Losses measured before on the same supernet and batches, in measurement order (an interrupted
    /// selection's): they are taken instead of measuring again; the selection depends on nothing else.</param>
    /// <param name="measured">Receives each loss measured here, in order.</param>
    public static Architecture Select(Supernet net, IReadOnlyList<(Tensor X, Tensor Y)> batches, long seed, TextWriter log,
        IReadOnlyList<double>? known = null, Action<double>? measured = null, CancellationToken cancel = default)
    {
        known ??= [];
        var cfg = net.Config;
        var space = cfg.Space;
        var cells = net.CellParameters;
        var weights = net.ArchWeights().ToDictionary(kv => kv.Key, kv => kv.Value.Ops.Select(r => (double[])r.Clone()).ToArray());
        var masks = cells.Keys.ToDictionary(c => c, _ => Enumerable.Repeat(1.0, space.Edges).ToArray());
        int total = Evaluations(net), replayed = Math.Min(known.Count, total);
        if (replayed > 0) log.WriteLine($"perturbation selection: {replayed} of {total} evaluations from an earlier run, {total - replayed} to measure");
        var meter = new ProgressMeter("perturbation selection", total - replayed, "evaluations", log, TimeSpan.FromSeconds(30));
        var inv = CultureInfo.InvariantCulture;
        var previous = net.ArchMixing;
        bool wasTraining = net.training;
        double dropPath = net.DropPathProb;
        using var mixing = new PerturbedMixing();
        using var statistics = new BufferSnapshot(net); // the BN running statistics, put back at the end
        int done = 0;
        try
        {
            net.ArchMixing = mixing;
            net.train();
            // Batch statistics, but no random masks: every loss of the comparison is measured on the same function
            // (and a resumed selection measures what the first run did).
            if (dropPath > 0) net.DropPathProb = 0;
            double Loss()
            {
                if (done < replayed) return known[done++];
                cancel.ThrowIfCancellationRequested();
                foreach (var (cell, (alpha, beta)) in cells) mixing.Set(alpha, beta, weights[cell], masks[cell]);
                using var _ = torch.no_grad();
                // Ops that draw random numbers (S4's noise) draw the same ones in every measurement: the losses then
                // differ by the masked op alone, and a resumed selection measures what the first run would have.
                TorchSeed.Set(seed);
                double sum = 0; long n = 0;
                foreach (var (x, y) in batches)
                {
                    using var scope = torch.NewDisposeScope();
                    sum += functional.cross_entropy(net.call(x), y).ToDouble() * y.shape[0];
                    n += y.shape[0];
                }
                double loss = sum / Math.Max(n, 1);
                measured?.Invoke(loss);
                meter.Report(++done - replayed);
                return loss;
            }

            double baseline = Loss();
            log.WriteLine(string.Format(inv, "perturbation selection: {0} held-out images, supernet loss {1:0.0000}", batches.Sum(b => b.Y.shape[0]), baseline));
            var rng = new Random(unchecked((int)seed));
            var remaining = cells.Keys.ToDictionary(c => c, _ => Enumerable.Range(0, space.Edges).ToList());
            while (remaining.Values.Any(r => r.Count > 0))
                foreach (var cell in cells.Keys.Where(c => remaining[c].Count > 0))
                {
                    int pick = rng.Next(remaining[cell].Count), e = remaining[cell][pick];
                    remaining[cell].RemoveAt(pick);
                    var ops = space.EdgesOf(cell == "reduce")[e];
                    var without = new List<(int Op, double Loss)>();
                    foreach (int k in Candidates(cfg, ops))
                    {
                        double keep = weights[cell][e][k];
                        weights[cell][e][k] = 0;
                        without.Add((k, Loss()));
                        weights[cell][e][k] = keep;
                    }
                    var best = without.MaxBy(w => w.Loss);
                    for (int k = 0; k < ops.Count; k++) weights[cell][e][k] = k == best.Op ? 1 : 0;
                    log.WriteLine($"perturbation selection: {cell} {space.Kind.EdgeTitle(e)}: {ops[best.Op]}; loss without each op: " +
                                  string.Join(", ", without.OrderByDescending(w => w.Loss).Select(w => string.Format(inv, "{0} {1:0.0000}", ops[w.Op], w.Loss))));
                }
            if (space.Kind != SpaceKind.DartsCell)
            {
                meter.Finish(string.Format(inv, "supernet loss of the selected cell {0:0.0000}", Loss()));
                return Architecture.FromNb201(new Nb201Arch([.. weights["normal"].Select((row, e) => space.Normal[e][Array.IndexOf(row, 1.0)])]));
            }

            var kept = cells.Keys.ToDictionary(c => c, _ => new List<CellEdge>[cfg.Steps]);
            foreach (var cell in cells.Keys)
                foreach (int node in Enumerable.Range(0, cfg.Steps).OrderBy(_ => rng.Next()))
                {
                    int start = SearchSpace.DartsEdgeStart(node);
                    var inputs = Enumerable.Range(0, node + 2).ToList();
                    while (inputs.Count > 2)
                    {
                        var without = new List<(int Input, double Loss)>();
                        foreach (int j in inputs)
                        {
                            masks[cell][start + j] = 0;
                            without.Add((j, Loss()));
                            masks[cell][start + j] = 1;
                        }
                        var least = without.MinBy(w => w.Loss);
                        masks[cell][start + least.Input] = 0;
                        inputs.Remove(least.Input);
                        log.WriteLine($"perturbation selection: {cell} node {node + 2}: input {least.Input} removed; loss without each input: " +
                                      string.Join(", ", without.Select(w => string.Format(inv, "{0} {1:0.0000}", w.Input, w.Loss))));
                    }
                    var edgeOps = space.EdgesOf(cell == "reduce");
                    kept[cell][node] = [.. inputs.Select(j => new CellEdge(edgeOps[start + j][Array.IndexOf(weights[cell][start + j], 1.0)], j))];
                }
            meter.Finish(string.Format(inv, "supernet loss of the selected cell {0:0.0000}", Loss()));
            var concat = Enumerable.Range(2, cfg.Steps).ToList();
            return Architecture.FromCell(space.Name, new DartsGenotype([.. kept["normal"].SelectMany(n => n)], concat, [.. kept["reduce"].SelectMany(n => n)], concat));
        }
        finally
        {
            net.ArchMixing = previous;
            net.train(wasTraining);
            if (dropPath > 0) net.DropPathProb = dropPath;
        }
    }

    /// <summary>The ops of an edge that can be chosen: all but "none" in DARTS-style cells (and with --derive-without-none).</summary>
    private static List<int> Candidates(SupernetConfig cfg, IReadOnlyList<string> ops) =>
        [.. Enumerable.Range(0, ops.Count).Where(k => ops[k] != OpRegistry.None || cfg.Space.Kind.DerivationMayKeepNone && !cfg.DeriveWithoutNone)];
}
