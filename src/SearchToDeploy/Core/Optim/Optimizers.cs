using SearchToDeploy.Core.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Optim;

/// <summary>
/// A parameter group: parameters that share a weight decay. Optimizer state is kept per parameter in named tensors
/// so checkpoints can save and restore it exactly.
/// </summary>
public sealed record ParamGroup(IReadOnlyList<Parameter> Parameters, double WeightDecay);

/// <summary>Optimizer state by name, for checkpoints.</summary>
public interface IStatefulOptimizer
{
    IReadOnlyDictionary<string, Tensor> State();
    void LoadState(IReadOnlyDictionary<string, Tensor> state);
}

/// <summary>
/// SGD with momentum (PyTorch semantics: d = g + wd*p; buf = m*buf + d (buf = d at first); nesterov d += m*buf else
/// d = buf; p -= lr*d). Its momentum buffers are readable, as DARTS's second-order step needs them.
/// </summary>
public sealed class Sgd(IReadOnlyList<ParamGroup> groups, double momentum, bool nesterov = false) : IStatefulOptimizer
{
    private readonly Dictionary<Parameter, Tensor> _buffers = new(ReferenceEqualityComparer.Instance);

    public IReadOnlyList<ParamGroup> Groups { get; } = groups;
    public double Momentum { get; } = momentum;
    public IEnumerable<Parameter> Parameters => Groups.SelectMany(g => g.Parameters);

    /// <summary>The momentum buffer of a parameter, or null before its first step.</summary>
    public Tensor? MomentumBuffer(Parameter p) => _buffers.GetValueOrDefault(p);

    public double WeightDecayOf(Parameter p) => Groups.First(g => g.Parameters.Contains(p)).WeightDecay;

    public void Step(double lr)
    {
        using var _ = torch.no_grad();
        // Scalars are made explicitly and kept alive until the end: an implicit conversion's temporary can be
        // finalized by the GC while libtorch still reads it (it is not tied to a dispose scope).
        using var momentum = Momentum.ToScalar();
        using var step = (-lr).ToScalar();
        foreach (var group in Groups)
        {
            using var decay = group.WeightDecay.ToScalar();
            foreach (var p in group.Parameters)
            {
                using var grad = p.grad;
                if (grad is null) continue;
                using var d = group.WeightDecay != 0 ? grad.add(p, decay) : grad.clone();
                if (Momentum != 0)
                {
                    if (!_buffers.TryGetValue(p, out var buf)) _buffers[p] = buf = d.clone().DetachFromDisposeScope();
                    else Scalars.AddInPlace(buf.mul_(momentum), d);
                    if (nesterov) d.add_(buf, momentum);
                    else d.copy_(buf);
                }
                p.add_(d, step);
            }
        }
    }

    public IReadOnlyDictionary<string, Tensor> State() =>
        Parameters.Select((p, i) => (p, i)).Where(x => _buffers.ContainsKey(x.p)).ToDictionary(x => $"momentum.{x.i}", x => _buffers[x.p]);

    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        int i = 0;
        foreach (var p in Parameters)
        {
            if (state.TryGetValue($"momentum.{i}", out var t)) _buffers[p] = OptimizerState.Like(t, p);
            i++;
        }
    }
}

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
            using var denom = root.div_(sqrtBc2).add_(epsilon, Scalars.One);
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

internal static class OptimizerState
{
    /// <summary>A saved state tensor as a new tensor with the parameter's dtype and device (checkpoints load onto the CPU).</summary>
    public static Tensor Like(Tensor saved, Parameter p) => saved.to(p.dtype, p.device).clone().DetachFromDisposeScope();
}

public static class Gradients
{
    /// <summary>Sets the gradients of the parameters to zero (where they exist).</summary>
    public static void Zero(IEnumerable<Parameter> parameters)
    {
        foreach (var p in parameters)
        {
            using var g = p.grad;
            g?.zero_();
        }
    }

    /// <summary>Clips the global L2 norm of the gradients to <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public static double ClipNorm(IReadOnlyList<Parameter> parameters, double maxNorm)
    {
        using var _ = torch.no_grad();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return 0;
        var norms = grads.Select(g => g.norm()).ToArray();
        using var stacked = torch.stack(norms);
        using var total = stacked.norm();
        double norm = total.ToDouble();
        if (maxNorm > 0 && norm > maxNorm)
        {
            double scale = maxNorm / (norm + 1e-6);
            using var s = scale.ToScalar();
            foreach (var g in grads) g.mul_(s);
        }
        foreach (var t in norms) t.Dispose();
        foreach (var g in grads) g.Dispose();
        return norm;
    }
}
