using SearchToDeploy.Core.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Optim;

/// <summary>Adam (PyTorch semantics, L2 weight decay added to the gradient), as DARTS uses for α.</summary>
public sealed class Adam(IReadOnlyList<Parameter> parameters, double lr, double beta1, double beta2, double weightDecay, double eps = 1e-8)
    : IStatefulOptimizer
{
    private readonly Tensor?[] _m = new Tensor?[parameters.Count];
    private readonly Tensor?[] _v = new Tensor?[parameters.Count];
    private long _steps;

    public IReadOnlyList<Parameter> Parameters { get; } = parameters;
    public double LearningRate { get; set; } = lr;
    public long Steps => _steps;

    public void ZeroGrad()
    {
        foreach (var p in Parameters)
        {
            using var g = p.grad;
            g?.zero_();
        }
    }

    public void Step()
    {
        using var _ = torch.no_grad();
        _steps++;
        double bc1 = 1 - Math.Pow(beta1, _steps), bc2 = 1 - Math.Pow(beta2, _steps);
        using Scalar decay = weightDecay.ToScalar(), b1 = beta1.ToScalar(), b2 = beta2.ToScalar(), rest1 = (1 - beta1).ToScalar(),
            rest2 = (1 - beta2).ToScalar(), sqrtBc2 = Math.Sqrt(bc2).ToScalar(), epsilon = eps.ToScalar(), step = (-LearningRate / bc1).ToScalar();
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            using var grad = p.grad;
            if (grad is null) continue;
            using var g = weightDecay != 0 ? grad.add(p, decay) : grad.alias();
            var m = _m[i] ??= torch.zeros_like(p).DetachFromDisposeScope();
            var v = _v[i] ??= torch.zeros_like(p).DetachFromDisposeScope();
            m.mul_(b1).add_(g, rest1);
            v.mul_(b2).addcmul_(g, g, rest2);
            using var root = v.sqrt();
            using var denom = root.div_(sqrtBc2).add_(epsilon, TensorSums.One);
            p.addcdiv_(m, denom, step);
        }
    }

    public IReadOnlyDictionary<string, Tensor> State()
    {
        var d = new Dictionary<string, Tensor> { ["steps"] = torch.tensor(_steps) };
        for (int i = 0; i < Parameters.Count; i++)
        {
            if (_m[i] is { } m) d[$"exp_avg.{i}"] = m;
            if (_v[i] is { } v) d[$"exp_avg_sq.{i}"] = v;
        }
        return d;
    }

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        _steps = state.TryGetValue("steps", out var s) ? s.item<long>() : 0;
        for (int i = 0; i < Parameters.Count; i++)
        {
            _m[i] = state.TryGetValue($"exp_avg.{i}", out var m) ? OptimizerState.Like(m, Parameters[i]) : null;
            _v[i] = state.TryGetValue($"exp_avg_sq.{i}", out var v) ? OptimizerState.Like(v, Parameters[i]) : null;
        }
    }
}
