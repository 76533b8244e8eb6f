using SearchToDeploy.Core.Distributed;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Supernets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// Updates the architecture parameters with Adam on the validation loss (quark0/darts architect.py).
/// First order: ∇_α L_val(w, α). Second order (unrolled): ∇_α L_val(w', α) − η (∇_α L_train(w⁺) − ∇_α L_train(w⁻)) / 2ε
/// with the virtual step w' = w − η(m·buf + ∇_w L_train + wd·w) and w± = w ± ε ∇_{w'} L_val, ε = e / ‖∇_{w'} L_val‖
/// (e = 0.01 in DARTS; <see cref="ArchitectureSettings.UnrolledEpsilon"/>).
/// The weights and BN running statistics are restored afterwards, so only α changes. Over several ranks the virtual
/// step's gradient and v are averaged before they are used, and α's gradient at the end: each term of the unrolled
/// gradient is then the mean of the ranks' terms at the same w', w⁺ and w⁻, which is the whole batch's.
/// </summary>
public sealed class Architect(Supernet net, ArchitectureSettings settings, IGradientSync? sync = null)
{
    public Core.Optim.Adam Optimizer { get; } = new(net.ArchParameters, settings.LearningRate, settings.Beta1, settings.Beta2, settings.WeightDecay);

    private IReadOnlyList<Parameter> Arch => net.ArchParameters;

    /// <summary>One architecture step; returns the validation loss it saw.</summary>
    public double Step(Tensor xTrain, Tensor yTrain, Tensor xValid, Tensor yValid, double eta, Sgd weights, bool unrolled)
    {
        Optimizer.ZeroGrad();
        double loss = unrolled
            ? UnrolledGradient(xTrain, yTrain, xValid, yValid, eta, weights)
            : FirstOrderGradient(xValid, yValid);
        StepAveraged();
        return loss;
    }

    /// <summary>Averages α's gradients over the processes (every process keeps the same α), then takes Adam's step.</summary>
    public void StepAveraged()
    {
        (sync ?? IGradientSync.SingleProcess).Average(Arch);
        Optimizer.Step();
    }

    /// <remarks>
    /// Accumulates with <c>autograd.backward</c> rather than taking <see cref="GradientsOf"/>'s <c>autograd.grad</c>:
    /// a DARTS-style supernet of one cell (a reduction cell) leaves the normal cell's α out of the graph, which
    /// backward skips and grad refuses (libtorch's "not used in the graph" error ends the process).
    /// </remarks>
    private double FirstOrderGradient(Tensor x, Tensor y)
    {
        using var scope = torch.NewDisposeScope();
        var loss = Loss(x, y);
        using (Ops.Depthwise5x5.WithoutFilterGradients()) torch.autograd.backward([loss], inputs: [.. Arch]);
        return loss.ToDouble();
    }

    private Tensor Loss(Tensor x, Tensor y)
    {
        using var logits = net.call(x);
        return functional.cross_entropy(logits, y);
    }

    /// <summary>Sets α.grad to the unrolled (second-order) gradient; returns L_val(w').</summary>
    public double UnrolledGradient(Tensor xTrain, Tensor yTrain, Tensor xValid, Tensor yValid, double eta, Sgd optimizer)
    {
        using var scope = torch.NewDisposeScope();
        var w = optimizer.Parameters.ToList();
        var savedWeights = w.Select(p => p.detach().clone()).ToList();
        using var buffers = new BufferSnapshot(net); // put back after the weights, at the end
        // The finite difference below compares gradients at weights 1e-4 apart (relative): TF32 convolutions (cuDNN's
        // default on Ampere and later) round at 5e-4 and would leave mostly noise. Off for this step only, as bf16 is refused.
        bool cuda = w.Count > 0 && w[0].device_type == DeviceType.CUDA, tf32 = cuda && torch.backends.cudnn.allow_tf32;
        if (tf32) torch.backends.cudnn.allow_tf32 = false;
        try
        {
            // Virtual step w' = w - eta * (momentum * buf + dL_train/dw + wd * w). Over several ranks the gradient of the
            // whole batch (the mean of theirs), so that w', and from it v and ε, are one process's.
            var (gTrain, _) = GradientsOf(xTrain, yTrain, [.. w]);
            sync?.AverageValues([.. gTrain]);
            using (torch.no_grad())
            {
                // Explicit scalars, alive until the end (see Sgd.Step).
                using Scalar momentum = optimizer.Momentum.ToScalar(), step = eta.ToScalar();
                for (int i = 0; i < w.Count; i++)
                {
                    using var decay = optimizer.WeightDecayOf(w[i]).ToScalar();
                    using var decayed = w[i] * decay;
                    var d = TensorSums.Add(gTrain[i], decayed);
                    if (optimizer.MomentumBuffer(w[i]) is { } buf) { using var b = buf * momentum; d = TensorSums.Add(d, b); }
                    w[i].sub_(d * step);
                }
            }

            // Gradients of the validation loss at w' for α and for w'.
            var arch = Arch; // built from the supernet's cell parameters on each read: read once per step
            var (grads, valid) = GradientsOf(xValid, yValid, [.. arch, .. w]);
            var dAlpha = grads.Take(arch.Count).ToList();
            var v = grads.Skip(arch.Count).ToList();
            sync?.AverageValues(v); // the whole batch's direction: every rank then moves w by the same ±ε v

            // Finite-difference Hessian-vector product around the original w.
            using var vnorm = torch.stack(v.Select(t => t.norm()).ToArray()).norm();
            double r = settings.UnrolledEpsilon / vnorm.ToDouble();
            Restore(w, savedWeights);
            var gPlus = ArchGradAt(xTrain, yTrain, w, v, r);
            Restore(w, savedWeights);
            var gMinus = ArchGradAt(xTrain, yTrain, w, v, -r);

            using (torch.no_grad())
            {
                using Scalar twoR = (2 * r).ToScalar(), step = eta.ToScalar();
                for (int i = 0; i < arch.Count; i++)
                {
                    var implicitGrad = (gPlus[i] - gMinus[i]) / twoR;
                    var total = dAlpha[i] - implicitGrad * step;
                    using var g = arch[i].grad;
                    if (g is null) arch[i].grad = total.detach().clone().DetachFromDisposeScope();
                    else g.copy_(total);
                }
            }
            return valid;
        }
        finally
        {
            if (tf32) torch.backends.cudnn.allow_tf32 = true;
            Restore(w, savedWeights);
        }
    }

    private IList<Tensor> ArchGradAt(Tensor x, Tensor y, IReadOnlyList<Parameter> w, IList<Tensor> v, double r)
    {
        using (torch.no_grad())
        {
            using var step = r.ToScalar();
            for (int i = 0; i < w.Count; i++) w[i].add_(v[i], step);
        }
        using var onlyArch = Ops.Depthwise5x5.WithoutFilterGradients();
        return GradientsOf(x, y, [.. Arch]).Grads;
    }

    /// <summary>
    /// The gradients of the loss on (x, y) for <paramref name="inputs"/> and the loss, in a dispose scope of its own:
    /// the supernet's intermediate tensors are freed when the pass ends, not when the second-order step's four passes
    /// have all run (which held up to two passes' activations at once).
    /// </summary>
    private (IList<Tensor> Grads, double Loss) GradientsOf(Tensor x, Tensor y, IList<Tensor> inputs)
    {
        using var scope = torch.NewDisposeScope();
        var loss = Loss(x, y);
        var grads = torch.autograd.grad([loss], inputs);
        double value = loss.ToDouble();
        return ([.. grads.Select(g => g.MoveToOuterDisposeScope())], value);
    }

    private static void Restore(IReadOnlyList<Parameter> w, IReadOnlyList<Tensor> saved)
    {
        using var _ = torch.no_grad();
        for (int i = 0; i < w.Count; i++) w[i].copy_(saved[i]);
    }
}
