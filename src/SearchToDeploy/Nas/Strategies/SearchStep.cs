using System.Diagnostics;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Runs.Search;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// One search step, the same for the search and its benchmark: the architecture step on an architecture batch (from the
/// warm-up epoch on), the weight gradient on a training batch, then clipping and the SGD step. Alternating (α is
/// updated first and the weight gradient sees the new α, as in DARTS) or, with <see cref="ParallelSteps"/>, both
/// gradients side by side at the same (w, α). In two calls so that a caller can look at the losses before the weights
/// change: <see cref="Gradients"/>, then <see cref="UpdateWeights"/>.
/// </summary>
public sealed class SearchStep(Supernet net, Sgd sgd, Architect architect, SearchOptions options, ParallelSteps? parallel)
{
    private readonly IReadOnlyList<Parameter> _weights = [.. sgd.Parameters];

    /// <summary>
    /// The architecture step (α updated; skipped while <paramref name="archTrains"/> is false) and the weight gradient
    /// (accumulated into the weights' .grad; the weights are not changed yet).
    /// </summary>
    public StepResult Gradients(Tensor xTrain, Tensor yTrain, Tensor xArch, Tensor yArch, double lr, bool archTrains)
    {
        if (archTrains && parallel is not null)
        {
            SearchToDeploy.Core.Optim.Gradients.Zero(_weights);
            var (archLoss, (logits, loss, weightMs)) = parallel.Run(xArch, yArch, () => WeightGradient(xTrain, yTrain));
            architect.Optimizer.Step();
            return new StepResult(logits, loss, archLoss, parallel.LastArchMilliseconds, weightMs);
        }
        double archLossAlt = 0, archMs = 0;
        if (archTrains)
        {
            var watch = Stopwatch.StartNew();
            archLossAlt = architect.Step(xTrain, yTrain, xArch, yArch, lr, sgd, options.Unrolled);
            archMs = watch.Elapsed.TotalMilliseconds;
        }
        SearchToDeploy.Core.Optim.Gradients.Zero(_weights);
        var (l, lossAlt, ms) = WeightGradient(xTrain, yTrain);
        return new StepResult(l, lossAlt, archLossAlt, archMs, ms);
    }

    /// <summary>Clips the weight gradients' global norm and takes the SGD step at learning rate <paramref name="lr"/>.</summary>
    public void UpdateWeights(double lr)
    {
        SearchToDeploy.Core.Optim.Gradients.ClipNorm(_weights, options.GradClip);
        sgd.Step(lr);
    }

    /// <summary>The training loss's gradient for the weights (accumulated into their .grad).</summary>
    private (Tensor Logits, double Loss, double Milliseconds) WeightGradient(Tensor x, Tensor y)
    {
        var watch = Stopwatch.StartNew();
        var logits = net.call(x);
        using var loss = functional.cross_entropy(logits, y);
        torch.autograd.backward([loss], inputs: [.. _weights]);
        return (logits, loss.ToDouble(), watch.Elapsed.TotalMilliseconds);
    }
}
