using SearchToDeploy.Core.Distributed;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Data;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Runs;

/// <summary>The one evaluation loop (search and training alike): plain cross-entropy and top-k accuracy over a loader.</summary>
public static class Evaluation
{
    /// <summary>
    /// Mean cross-entropy and, for each k, the share (%) of labels among the top-k logits, in evaluation mode and
    /// without gradients; the module's mode is restored afterwards. In a data-parallel run each rank evaluates its
    /// share of every batch and the sums are reduced over the ranks (<paramref name="sync"/>). A stop
    /// (<paramref name="cancel"/>) is honoured between batches: a long evaluation does not outlast a signal's grace time.
    /// </summary>
    public static (double Loss, double[] TopK) Run(Module<Tensor, Tensor> net, DataLoader loader, Device device, IGradientSync? sync, int[] ks,
        CancellationToken cancel = default)
    {
        bool wasTraining = net.training;
        net.eval();
        double lossSum = 0;
        var correct = new long[ks.Length];
        long seen = 0;
        try
        {
            using var _ = torch.no_grad();
            foreach (var b in loader.Epoch(0))
            {
                if (b.Count == 0 || cancel.IsCancellationRequested) { b.Dispose(); cancel.ThrowIfCancellationRequested(); continue; }
                using var scope = torch.NewDisposeScope();
                var (x, y) = b.ToTensors(device);
                b.Dispose();
                var logits = net.call(x);
                lossSum += functional.cross_entropy(logits, y).ToDouble() * y.shape[0];
                var hits = Losses.TopKCorrect(logits, y, ks);
                for (int i = 0; i < ks.Length; i++) correct[i] += hits[i];
                seen += y.shape[0];
            }
        }
        finally { net.train(wasTraining); }
        if (sync is { Size: > 1 })
        {
            double[] sums = [lossSum, seen, .. correct.Select(c => (double)c)];
            sync.Sum(sums);
            (lossSum, seen) = (sums[0], (long)sums[1]);
            for (int i = 0; i < ks.Length; i++) correct[i] = (long)sums[2 + i];
        }
        return (lossSum / Math.Max(seen, 1), [.. correct.Select(c => 100.0 * c / Math.Max(seen, 1))]);
    }
}
