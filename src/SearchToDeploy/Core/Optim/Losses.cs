using SearchToDeploy.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Core.Optim;

public static class Losses
{
    /// <summary>
    /// Cross-entropy against label-smoothed targets (DARTS CrossEntropyLabelSmooth): target = (1-ε)·onehot + ε/K,
    /// loss = mean over the batch of -Σ target·log_softmax(logits). ε = 0 is plain cross-entropy.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels, double smoothing = 0)
    {
        if (smoothing <= 0) return functional.cross_entropy(logits, labels);
        long classes = logits.shape[1];
        using var logp = functional.log_softmax(logits, 1);
        using var nll = logp.gather(1, labels.unsqueeze(1)).squeeze(1).neg();
        using var uniform = logp.mean([1]).neg();
        using Scalar a = (1 - smoothing).ToScalar(), b = smoothing.ToScalar();
        using var hard = nll * a;
        using var soft = uniform * b;
        using var mixed = TensorSums.Add(hard, soft);
        return mixed.mean();
    }

    /// <summary>loss + weight · other (an auxiliary head's loss), with the weight as an explicit Scalar (docs/torch-notes.md).</summary>
    public static Tensor AddWeighted(Tensor loss, Tensor other, double weight)
    {
        using var w = weight.ToScalar();
        using var weighted = other * w;
        return TensorSums.Add(loss, weighted);
    }

    /// <summary>How many of the labels are among the top-k logits, for each k.</summary>
    public static long[] TopKCorrect(Tensor logits, Tensor labels, params int[] ks)
    {
        int maxK = (int)Math.Min(ks.Max(), logits.shape[1]);
        var (values, idx) = logits.topk(maxK, 1);
        values.Dispose();
        using (idx)
        using (var hit = idx.eq(labels.unsqueeze(1)))
            return [.. ks.Select(k => { using var s = hit.narrow(1, 0, Math.Min(k, maxK)).any(1).sum(); return s.item<long>(); })];
    }
}
