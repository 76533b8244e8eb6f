using System.Diagnostics;
using SearchToDeploy.Core.Distributed;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Nas.Supernets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>The weights' side of a search step, the same in every strategy: the training loss's gradient, then clipping and SGD.</summary>
public sealed class WeightStep(Supernet net, Sgd sgd, double gradClip, IGradientSync? sync = null)
{
    private readonly IReadOnlyList<Parameter> _weights = [.. sgd.Parameters];

    public Sgd Optimizer => sgd;

    /// <summary>Zeroes the weights' gradients, then accumulates the training loss's gradient into them.</summary>
    public (Tensor Logits, double Loss, double Milliseconds) Gradient(Tensor x, Tensor y)
    {
        Gradients.Zero(_weights);
        return GradientOnly(x, y);
    }

    /// <summary>The training loss's gradient for the weights (accumulated into their .grad, not zeroed first).</summary>
    public (Tensor Logits, double Loss, double Milliseconds) GradientOnly(Tensor x, Tensor y)
    {
        var watch = Stopwatch.StartNew();
        var logits = net.call(x);
        using var loss = functional.cross_entropy(logits, y);
        torch.autograd.backward([loss], inputs: [.. _weights]);
        return (logits, loss.ToDouble(), watch.Elapsed.TotalMilliseconds);
    }

    public void ZeroGradients() => Gradients.Zero(_weights);

    /// <summary>Averages the weight gradients over the processes, clips their global norm and takes the SGD step at learning rate <paramref name="lr"/>.</summary>
    public void Update(double lr)
    {
        (sync ?? IGradientSync.SingleProcess).Average(_weights);
        Gradients.ClipNorm(_weights, gradClip);
        sgd.Step(lr);
    }
}
