using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Distributed;

/// <summary>
/// Data-parallel exchange over MPI (Open MPI through <see cref="MpiNative"/>). Gradients are flattened into one
/// buffer, summed with one MPI_Allreduce in float64 (so the sum does not depend on how the library orders it) and
/// divided by the number of ranks; every rank then holds the same float32 mean. A watchdog aborts the whole job when
/// a collective waits longer than <see cref="Timeout"/> for the other ranks (one died or hangs), instead of hanging.
/// </summary>
public sealed class MpiGradientSync : IGradientSync, IDisposable
{
    /// <summary>The environment variable that sets <see cref="Timeout"/> in seconds.</summary>
    public const string TimeoutVariable = "S2D_MPI_TIMEOUT";
    private readonly Thread _watchdog;
    private readonly CancellationTokenSource _stop = new();
    private long _collectiveSince; // Stopwatch timestamp while inside a collective, else 0
    private string _collective = "";
    private readonly TextWriter _error;

    private MpiGradientSync(TextWriter error, TimeSpan timeout)
    {
        _error = error;
        Timeout = timeout;
        Rank = MpiNative.Rank();
        Size = MpiNative.Size();
        _watchdog = new Thread(Watch) { IsBackground = true, Name = "s2d-mpi-watchdog" };
        _watchdog.Start();
    }

    public int Rank { get; }
    public int Size { get; }
    public TimeSpan Timeout { get; }
    /// <summary>Bytes each rank sent into allreduces, calls and seconds spent in them (gradient exchange only).</summary>
    public long GradientBytes { get; private set; }
    public long GradientCalls { get; private set; }
    public double GradientSeconds { get; private set; }

    /// <summary>
    /// Joins the MPI job this process was launched in (mpirun, srun). Bad input when Open MPI cannot be loaded;
    /// <paramref name="error"/> receives the watchdog's message.
    /// </summary>
    public static MpiGradientSync Start(TextWriter error)
    {
        if (!MpiNative.TryLoad(out string? why)) throw new InputException($"launched by an MPI launcher, but {why}");
        MpiNative.Init();
        // A launcher of another MPI than the library (MPICH's mpiexec, Open MPI's libmpi) starts each process alone.
        if (AnnouncedSize() is var (announced, source) && announced != MpiNative.Size())
        {
            int size = MpiNative.Size();
            MpiNative.Shutdown();
            throw new InputException($"the launcher started {announced} processes ({source}={announced}) but MPI puts this one in a job of {size}: " +
                                     "the launcher and the MPI library (Open MPI) do not belong together; launch with Open MPI's mpirun, or srun --mpi=pmix");
        }
        string? t = Environment.GetEnvironmentVariable(TimeoutVariable);
        double seconds = 600;
        if (t is not null && (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || seconds <= 0))
            throw new InputException($"{TimeoutVariable}={t}: expected a positive number of seconds");
        return new MpiGradientSync(error, TimeSpan.FromSeconds(seconds));
    }

    public void Average(IReadOnlyList<Parameter> parameters)
    {
        var grads = new List<Tensor>();
        foreach (var p in parameters) if (p.grad is { } g) grads.Add(g);
        long start = Stopwatch.GetTimestamp(), count = grads.Sum(g => g.numel());
        try
        {
            CheckSameLength(count, "the gradients"); // also with none here: a rank that has some would wait for this one
            if (count == 0) return;
            MeanInPlace(grads, "gradient allreduce");
        }
        finally { foreach (var g in grads) g.Dispose(); } // the handles p.grad gave; the gradients stay
        GradientSeconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
        GradientBytes += count * sizeof(double);
        GradientCalls++;
    }

    public void AverageValues(IReadOnlyList<Tensor> tensors)
    {
        long count = tensors.Sum(t => t.numel());
        CheckSameLength(count, "the averaged buffers");
        if (count > 0) MeanInPlace(tensors, "buffer allreduce");
    }

    /// <summary>
    /// Every rank is about to reduce <paramref name="count"/> values: an allreduce of different lengths would be
    /// undefined (a hang, or values summed out of place), so a difference is an error naming both lengths.
    /// </summary>
    private void CheckSameLength(long count, string what)
    {
        Span<double> bounds = [count, -count]; // one allreduce gives the largest and the smallest
        Enter("length check");
        try { MpiNative.Allreduce(bounds, MpiNative.Max); }
        finally { Exit(); }
        if (bounds[0] != count || -bounds[1] != count)
            throw new InvalidOperationException($"rank {Rank}: {what} hold {count} values here but {(bounds[0] != count ? bounds[0] : -bounds[1])} on another rank " +
                                                "(the ranks' models or settings differ)");
    }

    public void Sum(Span<double> values)
    {
        Enter("metric allreduce");
        try { MpiNative.Allreduce(values, MpiNative.Sum); }
        finally { Exit(); }
    }

    public void CheckIdentical(IReadOnlyList<Tensor> tensors, string what)
    {
        ulong h = 14695981039346656037UL;
        foreach (var t in tensors)
        {
            using var c = t.detach().cpu().contiguous();
            var bytes = c.bytes;
            foreach (ulong w in MemoryMarshal.Cast<byte, ulong>(bytes)) h = (h ^ w) * 1099511628211UL;
            for (int i = bytes.Length / 8 * 8; i < bytes.Length; i++) h = (h ^ bytes[i]) * 1099511628211UL;
        }
        // Two 32-bit halves, exact in float64; equal minimum and maximum over ranks means equal everywhere.
        Span<double> max = [h >> 32, h & 0xFFFFFFFF], min = [max[0], max[1]];
        Enter("identity check");
        try
        {
            MpiNative.Allreduce(max, MpiNative.Max);
            MpiNative.Allreduce(min, MpiNative.Min);
        }
        finally { Exit(); }
        if (max[0] != min[0] || max[1] != min[1])
            throw new InvalidOperationException($"rank {Rank}: {what} differ between the {Size} ranks (data-parallel replicas diverged)");
    }

    public void Barrier()
    {
        Enter("barrier");
        try { MpiNative.Barrier(); }
        finally { Exit(); }
    }

    public string? Report(int steps, double stepSeconds) => steps == 0 ? null : string.Format(CultureInfo.InvariantCulture,
        "MPI: {0} ranks, {1:0.0} KB allreduced per step, {2:0.00} ms per step in allreduce ({3:0.0}% of step time)",
        Size, GradientBytes / 1024.0 / Math.Max(1, steps), 1000 * GradientSeconds / Math.Max(1, steps), 100 * GradientSeconds / Math.Max(1e-9, stepSeconds));

    /// <summary>One float64 buffer of all the tensors, summed in place over the ranks by MPI, divided, and copied back.</summary>
    private void MeanInPlace(IReadOnlyList<Tensor> tensors, string what)
    {
        using var scope = torch.NewDisposeScope();
        var flat = torch.cat(tensors.Select(t => t.detach().flatten().to(ScalarType.Float64)).ToList()).cpu().contiguous();
        Enter(what);
        try { MpiNative.Allreduce(MemoryMarshal.Cast<byte, double>(flat.bytes), MpiNative.Sum); }
        finally { Exit(); }
        using (var size = Size.ToScalar()) flat.div_(size);
        long offset = 0;
        using var _ = torch.no_grad();
        foreach (var t in tensors)
        {
            long n = t.numel();
            t.copy_(flat.narrow(0, offset, n).view(t.shape));
            offset += n;
        }
    }

    private void Enter(string what)
    {
        _collective = what;
        Interlocked.Exchange(ref _collectiveSince, Stopwatch.GetTimestamp());
    }

    private void Exit() => Interlocked.Exchange(ref _collectiveSince, 0);

    private void Watch()
    {
        while (!_stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(Math.Min(1, Timeout.TotalSeconds / 4))))
        {
            long since = Interlocked.Read(ref _collectiveSince);
            if (since == 0 || Stopwatch.GetElapsedTime(since) < Timeout) continue;
            _error.WriteLine($"error: rank {Rank} of {Size}: {_collective} waited {Timeout.TotalSeconds:0} s for the other ranks " +
                             $"(one died or hangs); aborting the job ({TimeoutVariable} sets the wait)");
            _error.Flush();
            MpiNative.Abort(1);
        }
    }

    /// <summary>Stops the watchdog and leaves MPI (every rank must get here, else the launcher reports an error).</summary>
    public void Dispose()
    {
        _stop.Cancel();
        _watchdog.Join();
        MpiNative.Shutdown();
    }

    /// <summary>Ends the whole job at once (an error on this rank would leave the others waiting).</summary>
    public void Abort(int code) => MpiNative.Abort(code);

    /// <summary>The number of processes the launcher says it started (Open MPI, PMI, or the Slurm step), and the variable that says it; null when none does.</summary>
    public static (int Size, string Source)? AnnouncedSize()
    {
        foreach (string v in new[] { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_STEP_NUM_TASKS" })
            if (NodeRanks.EnvInt(v) is > 0 and var n) return (n, v);
        return null;
    }

    /// <summary>
    /// Bad input when Slurm started this process as one of several tasks of a step without an MPI process-manager
    /// interface (srun without --mpi=pmix where Slurm's default is none): each task would run the whole command alone.
    /// </summary>
    public static void CheckNotAloneInStep()
    {
        if (Launched() || NodeRanks.EnvInt("SLURM_STEP_NUM_TASKS") is not { } n || n <= 1) return;
        throw new InputException($"this is one of {n} tasks of a Slurm step (SLURM_STEP_NUM_TASKS={n}), but no MPI process-manager interface (PMIx or PMI) " +
                                 "was set up, so each task would run alone: launch with srun --mpi=pmix -n N (or mpirun)");
    }

    /// <summary>The variables by which s2d knows it runs in an MPI job (<see cref="Launched"/>, <see cref="CheckNotAloneInStep"/>)
    /// and its place on its machine (<see cref="NodeRanks"/>): a process s2d starts on its own (a sweep's search) is given
    /// an environment without them.</summary>
    public static readonly IReadOnlyList<string> LaunchVariables =
    [
        "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "SLURM_STEP_NUM_TASKS",
        "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS", "SLURM_LOCALID", "SLURM_STEP_TASKS_PER_NODE",
    ];

    /// <summary>Whether this process was started by an MPI launcher (mpirun, or srun with PMI/PMIx).</summary>
    public static bool Launched() =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null || Environment.GetEnvironmentVariable("PMIX_RANK") is not null
        || Environment.GetEnvironmentVariable("PMI_SIZE") is not null;
}
