using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Supernets;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// GDAS (Dong &amp; Yang, "Searching for a Robust Neural Architecture in Four GPU Hours", CVPR 2019): each training
/// forward pass mixes every edge with a hard Gumbel-softmax sample of α, one op's weight 1 and the others 0, with the
/// soft sample's gradient (straight-through); the temperature falls linearly from 10 to 0.1 over the epochs (xautodl's
/// GDAS settings). Steps alternate as in DARTS, first order (the paper preset takes the weight step first in every
/// space, as xautodl does). The supernet still computes every candidate (where GDAS's own code skips the zero-weighted ones), so a step
/// costs what a DARTS step costs, and the forward pass is the same; α's gradient is not quite: here each op's sampled
/// weight multiplies its output (the straight-through estimate of the mixed sum), while GDAS's code adds the other ops'
/// weights as bare numbers, so their share of the gradient is the node's summed gradient rather than its product with
/// each op's output. Evaluation passes mix with softmax(α), as derivation reads it.
/// </summary>
public sealed class GdasStrategy : DartsStrategy
{
    public const double TauMax = 10, TauMin = 0.1;
    private readonly GumbelMixing _mixing = new();

    public GdasStrategy(StrategySetup setup) : base(setup)
    {
        if (setup.Unrolled || setup.Parallel) throw new InputException("--method gdas takes first-order alternating steps: drop --unrolled and --parallel-steps");
        setup.Net.ArchMixing = _mixing;
    }

    public override void BeginEpoch(int epoch, int epochs) =>
        _mixing.Tau = TauMax - (TauMax - TauMin) * epoch / Math.Max(1, epochs - 1);

    private sealed class GumbelMixing : ArchMixing
    {
        public double Tau { get; set; } = TauMax;

        public override Tensor Weights(Tensor alpha, bool training)
        {
            if (!training) return alpha.softmax(-1);
            using var scope = torch.NewDisposeScope();
            using var tau = Tau.ToScalar();
            for (int attempt = 0; ; attempt++)
            {
                // gumbel = -log(Exp(1)); probs = softmax((log_softmax(α) + gumbel) / τ)
                using var exponential = torch.empty_like(alpha).exponential_();
                using var gumbel = exponential.log().neg();
                using var logp = alpha.log_softmax(-1);
                using var perturbed = TensorSums.Add(logp, gumbel);
                using var scaled = perturbed.div(tau);
                var probs = scaled.softmax(-1);
                using var index = probs.argmax(-1);
                using var oneHot = nn.functional.one_hot(index, probs.shape[^1]);
                using var hard = oneHot.to_type(probs.dtype);
                using var soft = probs.detach();
                using var offset = hard.sub(soft);
                var weights = TensorSums.Add(offset, probs); // the hard one-hot, with the soft sample's gradient
                if (weights.isfinite().all().item<bool>() || attempt >= 10) return weights.MoveToOuterDisposeScope();
            }
        }
    }
}
