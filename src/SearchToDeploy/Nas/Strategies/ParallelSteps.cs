using SearchToDeploy.Nas.Supernets;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// Computes a first-order architecture gradient on another core while the weight gradient is computed on this one
/// (<c>--parallel-steps</c>). Both gradients are taken at the same (w, α), then α and w are updated: the weight step
/// sees α of the step before instead of the α just updated (simultaneous rather than alternating updates; one step
/// of lag in thousands). On two cores this beats splitting each kernel over both: the supernet's kernels are too small
/// to keep two threads busy.
///
/// The architecture gradient runs on a twin of the supernet: its own modules (so its forward pass updates only its own
/// BN running statistics, never the supernet's from two threads at once), with the supernet's parameters copied in
/// before each step. Results are deterministic: each side runs single-threaded on its own tensors.
/// </summary>
public sealed class ParallelSteps : IDisposable
{
    private readonly Supernet _net;
    private readonly Supernet _twin;
    private readonly (Parameter Source, Parameter Twin)[] _pairs;
    private readonly Parameter[] _twinArch;
    private readonly int _threads;

    /// <summary>Each side's share of <paramref name="threads"/> (at least one).</summary>
    public static int ThreadsPerSide(int threads) => Math.Max(1, threads / 2);

    /// <param name="threadsPerSide">Torch threads of each side (the caller sets its own; the other side's thread
    /// sets it on every step, since a pool thread keeps whatever count it first ran with).</param>
    public ParallelSteps(Supernet net, int threadsPerSide)
    {
        _threads = threadsPerSide;
        if (net.DropPathProb > 0) throw new ArgumentException("parallel steps need drop-path 0: masks drawn on two threads would not be reproducible");
        _net = net;
        _twin = SupernetFactory.Create(net.Config);
        _twin.train();
        var twins = _twin.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        _pairs = [.. net.named_parameters().Select(p => (p.parameter, twins[p.name]))];
        var arch = net.ArchParameters.ToHashSet(ReferenceEqualityComparer.Instance);
        // Only α needs a gradient on the twin: every other parameter is a constant of its pass.
        foreach (var (source, twin) in _pairs) twin.requires_grad = arch.Contains(source);
        _twinArch = [.. net.ArchParameters.Select(a => _pairs.First(p => ReferenceEquals(p.Source, a)).Twin)];
    }

    /// <summary>
    /// Runs <paramref name="weightGradient"/> here while the twin computes ∇α L(<paramref name="xValid"/>) elsewhere;
    /// then sets the supernet's α gradients to it. Returns the validation loss and what the weight side returned.
    /// Neither side may change parameters: the optimizers step after this returns.
    /// </summary>
    public (double ArchLoss, T Weight) Run<T>(Tensor xValid, Tensor yValid, Func<T> weightGradient)
    {
        using (torch.no_grad())
            foreach (var (source, twin) in _pairs) twin.copy_(source);
        var arch = Task.Run(() => ArchGradient(xValid, yValid));
        T weight;
        try { weight = weightGradient(); }
        finally { ((IAsyncResult)arch).AsyncWaitHandle.WaitOne(); }
        double loss = arch.GetAwaiter().GetResult();
        var netArch = _net.ArchParameters; // built on each read: once per step
        using (torch.no_grad())
            for (int i = 0; i < _twinArch.Length; i++)
            {
                using var g = _twinArch[i].grad!;
                using var target = netArch[i].grad;
                if (target is not null) { target.copy_(g); continue; }
                using var copy = g.detach().clone();
                netArch[i].grad = copy;
            }
        return (loss, weight);
    }

    private double ArchGradient(Tensor x, Tensor y)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        torch.set_num_threads(_threads);
        using var scope = torch.NewDisposeScope();
        foreach (var a in _twinArch) { using var g = a.grad; g?.zero_(); }
        using var logits = _twin.call(x);
        using var loss = nn.functional.cross_entropy(logits, y);
        torch.autograd.backward([loss], inputs: [.. _twinArch]);
        double value = loss.ToDouble();
        LastArchMilliseconds = watch.Elapsed.TotalMilliseconds;
        return value;
    }

    /// <summary>Milliseconds the last architecture gradient took on its own core.</summary>
    public double LastArchMilliseconds { get; private set; }

    public void Dispose() => _twin.Dispose();
}
