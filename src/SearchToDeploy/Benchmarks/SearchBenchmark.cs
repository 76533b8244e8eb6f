using System.Diagnostics;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Transforms;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Search;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Training;
using TorchSharp;
using static TorchSharp.torch;
using DataLoader = SearchToDeploy.Data.DataLoader;
using ParamGroup = SearchToDeploy.Training.ParamGroup;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// <c>s2d bench search</c>: the time of one search step (an architecture step and a weight step, first order) on real
/// CIFAR-10 batches for each space x method at the paper's supernet size, with images/s, peak resident memory, the
/// supernet's forward FLOPs and the achieved GFLOP/s against a 2048x2048 matrix-multiply peak measured in the same run.
/// </summary>
public static class SearchBenchmark
{
    public sealed record Row(string Space, SearchMethod Method, bool Fused, double StepMs, double ArchMs, double WeightMs, double ImagesPerSecond,
        double PeakMb, double ForwardMflopsPerImage, double Gflops, double FullSearchHours);

    public static (BenchTable Table, List<Row> Rows, double PeakGflops) Run(IImageDataset cifar, IReadOnlyList<string> spaces,
        IReadOnlyList<SearchMethod> methods, int batch, int steps, bool withReference, TextWriter log)
    {
        double peak = MatmulPeak();
        log.WriteLine($"matmul peak: {peak:0.0} GFLOP/s");
        var loader = new DataLoader(cifar, null, CifarTransform.Train(Normalization.Cifar10), new LoaderOptions(batch, true, 1, DropLast: true, Workers: 1));
        var rows = new List<Row>();
        foreach (var spaceName in spaces)
            foreach (var method in methods)
                foreach (bool fused in withReference && SearchSpaces.Get(spaceName).Kind == SpaceKind.Nb201 ? new[] { false, true } : [true])
                {
                    var row = Measure(loader, spaceName, method, fused, batch, steps);
                    rows.Add(row);
                    log.WriteLine($"{Name(row)}: {row.StepMs:0} ms/step (arch {row.ArchMs:0} + weight {row.WeightMs:0}), " +
                                  $"{row.ImagesPerSecond:0.0} images/s, peak {row.PeakMb:0} MB, {row.Gflops:0.0} GFLOP/s");
                }

        var table = new BenchTable($"Search step, batch {batch}, first order ({Environment.ProcessorCount} cores; matmul peak {peak:0} GFLOP/s)",
            "step ms", "arch ms", "weight ms", "images/s", "peak MB", "fwd MFLOP/img", "GFLOP/s", "% of peak", "50 epochs, h");
        foreach (var r in rows)
            table.Add(Name(r), SettingsOf(r.Space),
                ("step ms", r.StepMs), ("arch ms", r.ArchMs), ("weight ms", r.WeightMs), ("images/s", r.ImagesPerSecond), ("peak MB", r.PeakMb),
                ("fwd MFLOP/img", r.ForwardMflopsPerImage), ("GFLOP/s", r.Gflops), ("% of peak", 100 * r.Gflops / peak), ("50 epochs, h", r.FullSearchHours));
        return (table, rows, peak);
    }

    private static string Name(Row r) => $"{r.Space} {r.Method.Name()}{(r.Fused ? "" : " (reference cell)")}";

    private static string SettingsOf(string space) => SearchSpaces.Get(space).Kind == SpaceKind.Nb201 ? "C=16, N=5" : "C=16, 8 cells";

    /// <summary>Options of the paper preset with first-order steps (the benchmark compares step costs).</summary>
    public static SearchOptions OptionsFor(string space, SearchMethod method) =>
        SearchPresets.Create("paper", space, method) with { Unrolled = false, DropPath = 0, ArchWarmupEpochs = 0 };

    private static Row Measure(DataLoader loader, string spaceName, SearchMethod method, bool fused, int batch, int steps)
    {
        var o = OptionsFor(spaceName, method);
        torch.manual_seed(1);
        using var net = SupernetFactory.Create(o.SupernetConfig(10) with { Fused = fused });
        if (method.IsRandomFeatures()) RandomFeatures.Apply(net, o.FrozenInit, o.TrainClassifier);
        var weights = net.WeightParameters;
        var sgd = new Sgd([new ParamGroup(weights, o.WeightDecay)], o.Momentum, o.Nesterov);
        var architect = new Architect(net, o);
        net.train();

        long macs = ForwardMacs(o, loader);

        var arch = new List<double>();
        var weight = new List<double>();
        GC.Collect();
        ProcessMemory.ResetPeak();
        int done = 0;
        using var batches = loader.Epoch(1).GetEnumerator();
        while (done < steps + 2)
        {
            if (!batches.MoveNext()) break;
            using var b1 = batches.Current;
            if (!batches.MoveNext()) break;
            using var b2 = batches.Current;
            using var scope = torch.NewDisposeScope();
            var (xt, yt) = b1.ToTensors();
            var (xa, ya) = b2.ToTensors();
            var w = Stopwatch.StartNew();
            architect.Step(xt, yt, xa, ya, o.LearningRate, sgd, unrolled: false);
            double a = w.Elapsed.TotalMilliseconds;
            w.Restart();
            Gradients.Zero(weights);
            var loss = nn.functional.cross_entropy(net.call(xt), yt);
            torch.autograd.backward([loss], inputs: [.. weights]);
            Gradients.ClipNorm(weights, o.GradClip);
            sgd.Step(o.LearningRate);
            double ws = w.Elapsed.TotalMilliseconds;
            if (done >= 2) { arch.Add(a); weight.Add(ws); } // the first steps warm up allocators and kernels
            done++;
        }
        double peakMb = ProcessMemory.PeakResidentBytes() / 1e6;
        double archMs = Median(arch), weightMs = Median(weight), stepMs = Median(arch.Zip(weight, (p, q) => p + q).ToList());
        double fwdFlops = 2.0 * macs;
        // Each step runs a forward and a backward pass for α and for w: about 3 forward passes' worth of FLOPs each.
        double gflops = 6 * fwdFlops * batch / (stepMs / 1000) / 1e9;
        int stepsPerEpoch = 25_000 / batch;
        double hours = 50.0 * stepsPerEpoch * stepMs / 1000 / 3600;
        return new Row(spaceName, method, fused, stepMs, archMs, weightMs, 2.0 * batch / (stepMs / 1000), peakMb, fwdFlops / 1e6, gflops, hours);
    }

    /// <summary>Multiply-accumulates of one supernet forward pass per image, counted on the reference (edge by edge)
    /// network so that implementation tricks (stacked or padded filters) do not change the figure.</summary>
    private static long ForwardMacs(SearchOptions o, DataLoader loader)
    {
        torch.manual_seed(1);
        using var reference = SupernetFactory.Create(o.SupernetConfig(10) with { Fused = false });
        using var counter = new MacCounter();
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        using var b = loader.Epoch(0).First();
        var (x, _) = b.ToTensors();
        reference.call(x.narrow(0, 0, 1));
        return counter.MultiplyAdds;
    }

    private static double Median(List<double> v)
    {
        if (v.Count == 0) return double.NaN;
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    /// <summary>GFLOP/s of a 2048x2048 float32 matrix multiply (median of 7).</summary>
    public static double MatmulPeak()
    {
        using var scope = torch.NewDisposeScope();
        var a = torch.randn(2048, 2048);
        var b = torch.randn(2048, 2048);
        torch.matmul(a, b).Dispose();
        var times = new List<double>();
        for (int i = 0; i < 7; i++)
        {
            var w = Stopwatch.StartNew();
            using var c = torch.matmul(a, b);
            times.Add(w.Elapsed.TotalSeconds);
        }
        return 2.0 * 2048 * 2048 * 2048 / Median(times) / 1e9;
    }
}
