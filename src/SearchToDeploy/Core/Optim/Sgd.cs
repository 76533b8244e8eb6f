using SearchToDeploy.Core.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Optim;

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

    /// <summary>
    /// The weight decay of the parameter's group, found by identity: a tensor's Equals compares values (torch.equal, a
    /// device synchronisation per call), so a list's Contains would be slow and could match another group's equal tensor.
    /// </summary>
    public double WeightDecayOf(Parameter p) => _decays[p];

    private readonly Dictionary<Parameter, double> _decays = Decays(groups);

    private static Dictionary<Parameter, double> Decays(IReadOnlyList<ParamGroup> groups)
    {
        var d = new Dictionary<Parameter, double>(ReferenceEqualityComparer.Instance);
        foreach (var g in groups)
            foreach (var q in g.Parameters) d.TryAdd(q, g.WeightDecay);
        return d;
    }

    public void Step(double lr)
    {
        using var _ = torch.no_grad();
        // Scalar objects are made explicitly and kept alive until the end: an implicit conversion's temporary can be
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
                    else TensorSums.AddInPlace(buf.mul_(momentum), d);
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
