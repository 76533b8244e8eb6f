using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Core.Distributed;

/// <summary>
/// What <c>s2d mpi check</c> verifies on a cluster before a long run: that N ranks, each at its share of a batch of
/// B images, average to the gradient one process computes at batch B (on a network without batch-dependent layers,
/// so the two are the same function), that one SGD step leaves the ranks bit-identical, and how long an allreduce of
/// the sizes search and training exchange takes.
/// </summary>
public static class DataParallelCheck
{
    public sealed record Result(double MaxRelativeError, bool Identical, IReadOnlyList<(long Bytes, double Milliseconds)> Allreduce)
    {
        /// <summary>float32 gradients summed in float64: agreement to a few float32 ulps.</summary>
        public const double Tolerance = 1e-5;
        public bool Passed => MaxRelativeError <= Tolerance && Identical;
    }

    public static Result Run(IGradientSync sync, int batch = 16, int seed = 7)
    {
        if (batch % sync.Size != 0) throw new InputException($"--batch {batch}: expected a multiple of the {sync.Size} ranks");
        Torch.TorchSeed.Set(seed);
        using var net = Sequential(
            ("conv1", Conv2d(3, 8, 3, padding: 1)), ("relu1", ReLU()), ("conv2", Conv2d(8, 16, 3, stride: 2, padding: 1)), ("relu2", ReLU()),
            ("pool", AdaptiveAvgPool2d(1)), ("flat", Flatten()), ("fc", Linear(16, 10)));
        var parameters = net.parameters().ToList();
        using var x = torch.randn(batch, 3, 16, 16);
        using var y = torch.randint(0, 10, batch, dtype: ScalarType.Int64);

        // One process at the whole batch.
        var whole = GradientsAt(net, parameters, x, y);
        // This rank's share, averaged over the ranks.
        long per = batch / sync.Size;
        using (var xs = x.narrow(0, sync.Rank * per, per)) using (var ys = y.narrow(0, sync.Rank * per, per))
        {
            foreach (var g in GradientsAt(net, parameters, xs, ys)) g.Dispose();
        }
        sync.Average(parameters);
        double worst = 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            using var g = parameters[i].grad!;
            using var diff = (g - whole[i]).abs().max();
            using var scale = whole[i].abs().max();
            worst = Math.Max(worst, diff.ToDouble() / Math.Max(scale.ToDouble(), 1e-12));
            whole[i].Dispose();
        }
        using (torch.no_grad())
        using (var rate = (-0.1).ToScalar())
            foreach (var p in parameters)
            {
                using var g = p.grad!;
                p.add_(g, alpha: rate);
            }
        bool identical = true;
        try { sync.CheckIdentical(parameters, "the check network's parameters after one step"); }
        catch (InvalidOperationException) { identical = false; }
        return new Result(worst, identical, Bandwidth(sync));
    }

    private static List<Tensor> GradientsAt(Sequential net, List<Parameter> parameters, Tensor x, Tensor y)
    {
        Optim.Gradients.Zero(parameters);
        using (var loss = functional.cross_entropy(net.call(x), y)) loss.backward();
        return [.. parameters.Select(p => { using var g = p.grad!; return g.clone(); })];
    }

    /// <summary>Median time of an allreduce of 1 KB to 16 MB (float64 values, as the gradient exchange sends them).</summary>
    private static List<(long, double)> Bandwidth(IGradientSync sync)
    {
        var rows = new List<(long, double)>();
        foreach (long bytes in new long[] { 1 << 10, 64 << 10, 1 << 20, 16 << 20 })
        {
            using var t = torch.ones(bytes / 8, dtype: ScalarType.Float64);
            var times = new List<double>();
            for (int i = 0; i < (bytes > 1 << 20 ? 5 : 21); i++)
            {
                var w = Stopwatch.StartNew();
                sync.AverageValues([t]);
                times.Add(w.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            rows.Add((bytes, times[times.Count / 2]));
        }
        return rows;
    }

    public static string Describe(Result r, int size, int batch) => string.Join('\n',
    [
        string.Format(CultureInfo.InvariantCulture, "gradient: {0} ranks at batch {1} each average to one process's gradient at batch {2}: " +
            "largest relative difference {3:0.0e+00} ({4}, tolerance {5:0e+00})", size, batch / size, batch, r.MaxRelativeError,
            r.MaxRelativeError <= Result.Tolerance ? "ok" : "FAILED", Result.Tolerance),
        $"replicas: parameters after one step are {(r.Identical ? "bit-identical on every rank (ok)" : "NOT identical across ranks (FAILED)")}",
        "allreduce (float64 sum over the ranks, median):",
        .. r.Allreduce.Select(a => string.Format(CultureInfo.InvariantCulture, "  {0,9}: {1,8:0.000} ms, {2,8:0.0} MB/s",
            a.Bytes >= 1 << 20 ? $"{a.Bytes >> 20} MB" : $"{a.Bytes >> 10} KB", a.Milliseconds, a.Bytes / 1e6 / (a.Milliseconds / 1e3))),
    ]);
}
