using System.Diagnostics;
using SearchToDeploy.Core.Torch;
using TorchSharp;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// The machine's practical arithmetic peak: GFLOP/s of a 2048x2048 float32 matrix multiply (the median of several),
/// measured in the same process and run as the workloads it is compared with (this machine's speed drifts by ±30%).
/// </summary>
public static class MatmulPeak
{
    public static double Measure(torch.Device? device = null, int repeats = 7, int n = 2048)
    {
        device ??= torch.CPU;
        using var a = torch.randn(n, n, device: device);
        using var b = torch.randn(n, n, device: device);
        var times = new List<double>();
        for (int i = 0; i <= repeats; i++)
        {
            TorchDevices.Synchronize(device);
            var watch = Stopwatch.StartNew();
            using (var c = torch.mm(a, b)) TorchDevices.Synchronize(device);
            if (i > 0) times.Add(watch.Elapsed.TotalSeconds); // the first call warms up
        }
        double median = times.Order().ElementAt(times.Count / 2);
        return 2.0 * n * n * n / median / 1e9;
    }
}
