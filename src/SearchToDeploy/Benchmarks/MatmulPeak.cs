using System.Diagnostics;
using TorchSharp;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// The machine's practical arithmetic peak: GFLOP/s of a 2048x2048 float32 matrix multiply (the median of several),
/// measured in the same process and run as the workloads it is compared with (this machine's speed drifts by ±30%).
/// </summary>
public static class MatmulPeak
{
    public static double Measure(int repeats = 7, int n = 2048)
    {
        using var a = torch.randn(n, n);
        using var b = torch.randn(n, n);
        var times = new List<double>();
        for (int i = 0; i <= repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            using (var c = torch.mm(a, b)) _ = c.shape;
            if (i > 0) times.Add(watch.Elapsed.TotalSeconds); // the first call warms up
        }
        double median = times.Order().ElementAt(times.Count / 2);
        return 2.0 * n * n * n / median / 1e9;
    }
}
