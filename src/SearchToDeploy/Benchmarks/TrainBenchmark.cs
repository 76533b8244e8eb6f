using System.Diagnostics;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// <c>s2d bench train</c>: training throughput (forward, backward, SGD step on in-memory batches) of the evaluation
/// networks at their paper sizes and at the cpu preset sizes, the time one epoch of the paper recipe would take here
/// (CIFAR-10: 50,000 images; ImageNet: 1,281,167), and the arithmetic rate achieved (a training image costs about three
/// forward passes: 6 FLOP per multiply-add) against a matrix multiply's measured in the same run.
/// </summary>
public static class TrainBenchmark
{
    public const int CifarEpochImages = 50_000, ImageNetEpochImages = 1_281_167, ImagenetteEpochImages = 9_469;

    /// <summary>The images of one epoch on the data each network is made for: ImageNet's for the mobile network, Imagenette's for the 64-px one, CIFAR's for the rest.</summary>
    public static int EpochImages(NetworkKind kind) => kind switch
    {
        NetworkKind.ImageNet => ImageNetEpochImages,
        NetworkKind.ImageNet64 or NetworkKind.Nb201x64 => ImagenetteEpochImages,
        _ => CifarEpochImages,
    };

    public sealed record Workload(string Name, Architecture Arch, NetworkConfig Config, int ImageSize, int Batch, int EpochImages);

    /// <summary>The default workloads: a DARTS cell (CIFAR and ImageNet networks) and a NAS-Bench-201 cell, paper and cpu sizes.</summary>
    public static IReadOnlyList<Workload> Defaults(Architecture darts, Architecture nb201, int imagenetBatch) =>
    [
        new("CIFAR network, paper (C=36, 20 cells, aux)", darts, NetworkConfig.Paper(NetworkKind.Cifar, 10), 32, 96, CifarEpochImages),
        new("CIFAR network, cpu preset (C=16, 5 cells)", darts, new NetworkConfig(NetworkKind.Cifar, 16, 5, 10, false), 32, 128, CifarEpochImages),
        new("ImageNet network, mobile (C=48, 14 cells, aux)", darts, NetworkConfig.Paper(NetworkKind.ImageNet, 1000), 224, imagenetBatch, ImageNetEpochImages),
        new("ImageNet network, 64-px stem, cpu preset (C=16, 8 cells, aux)", darts, new NetworkConfig(NetworkKind.ImageNet64, 16, 8, 10, true), 64, 64, ImagenetteEpochImages),
        new("NAS-Bench-201 network, paper (C=16, N=5)", nb201, NetworkConfig.Paper(NetworkKind.Nb201, 10), 32, 256, CifarEpochImages),
        new("NAS-Bench-201 network, cpu preset (C=16, N=2)", nb201, new NetworkConfig(NetworkKind.Nb201, 16, 2, 10, false), 32, 128, CifarEpochImages),
    ];

    public static BenchTable Run(IReadOnlyList<Workload> workloads, int steps, TextWriter log, Device? device = null)
    {
        device ??= torch.CPU;
        string where = device.type == DeviceType.CUDA ? TorchDevices.Describe(device) : $"{Environment.ProcessorCount} cores, torch threads {torch.get_num_threads()}";
        var table = new BenchTable($"Training step ({where}; synthetic batches, SGD, fp32)",
            "ms/step", "images/s", "epoch (h)", "params (M)", "MAdds (M)", "GFLOP/s", "of peak");
        double peak = MatmulPeak.Measure(device);
        log.WriteLine($"2048x2048 float32 matrix multiply: {peak:0} GFLOP/s");
        foreach (var w in workloads)
        {
            torch.manual_seed(0);
            using var net = NetworkFactory.Create(w.Arch, w.Config);
            var size = ModelSize.Measure(net, w.ImageSize);
            net.to(device);
            net.train();
            net.DropPathProb = w.Config.Kind == NetworkKind.Cifar ? 0.1 : 0;
            var sgd = new Sgd([new ParamGroup([.. net.parameters()], 3e-4)], 0.9);
            var parameters = sgd.Parameters.ToList();
            using var x = torch.randn(w.Batch, 3, w.ImageSize, w.ImageSize, device: device);
            using var y = torch.randint(0, w.Config.Classes, [w.Batch], dtype: ScalarType.Int64, device: device);
            var times = new List<double>();
            for (int s = 0; s < steps + 1; s++)
            {
                TorchDevices.Synchronize(device);
                var watch = Stopwatch.StartNew();
                using (var scope = torch.NewDisposeScope())
                {
                    Gradients.Zero(parameters);
                    var (logits, aux) = net.ForwardWithAux(x);
                    var loss = Losses.CrossEntropy(logits, y);
                    if (aux is not null) { using var auxLoss = Losses.CrossEntropy(aux, y); loss = Losses.AddWeighted(loss, auxLoss, 0.4); }
                    loss.backward();
                    Gradients.ClipNorm(parameters, 5);
                    sgd.Step(0.01);
                    TorchDevices.Synchronize(device);
                }
                if (s > 0) times.Add(watch.Elapsed.TotalMilliseconds); // the first step warms up
            }
            double ms = times.Order().ElementAt(times.Count / 2);
            double ips = w.Batch / (ms / 1000);
            double gflops = 6.0 * size.MultiplyAdds * ips / 1e9;
            log.WriteLine($"{w.Name}: {ms:0} ms/step at batch {w.Batch} ({w.ImageSize}x{w.ImageSize}), {ips:0.0} images/s, {gflops:0.0} GFLOP/s ({100 * gflops / peak:0}% of the matrix multiply's)");
            table.Add(w.Name, $"batch {w.Batch}, {w.ImageSize}x{w.ImageSize}", ("ms/step", ms), ("images/s", ips),
                ("epoch (h)", w.EpochImages / ips / 3600), ("params (M)", size.Parameters / 1e6), ("MAdds (M)", size.MultiplyAdds / 1e6),
                ("GFLOP/s", gflops), ("of peak", gflops / peak));
        }
        table.Add("2048x2048 float32 matrix multiply (the peak)", "same run", ("GFLOP/s", peak), ("of peak", 1));
        return table;
    }
}
