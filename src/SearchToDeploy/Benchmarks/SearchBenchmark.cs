using System.Diagnostics;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Transforms;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Nas.Supernets.Darts;
using SearchToDeploy.Runs.Search;
using TorchSharp;
using DataLoader = SearchToDeploy.Data.DataLoader;
using ParamGroup = SearchToDeploy.Core.Optim.ParamGroup;
using static TorchSharp.torch;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// <c>s2d bench search</c>: the time of one search step (an architecture step and a weight step; first order, and with
/// <c>--unrolled</c> also second order) on real CIFAR-10 batches for each space x method at the paper's supernet size, with images/s, peak resident memory, the
/// supernet's forward FLOPs and the achieved GFLOP/s against a 2048x2048 matrix-multiply peak measured in the same run.
/// </summary>
public static class SearchBenchmark
{
    public sealed record Row(string Space, SearchMethod Method, bool Fused, bool Parallel, bool Unrolled, Precision Precision, double StepMs, double ArchMs, double WeightMs, double ImagesPerSecond,
        double PeakMb, double AllocatedPeakMb, double ForwardMflopsPerImage, double Gflops, double FullSearchHours);

    public static (BenchTable Table, List<Row> Rows, double PeakGflops) Run(IImageDataset cifar, IReadOnlyList<string> spaces,
        IReadOnlyList<SearchMethod> methods, int batch, int steps, bool withReference, bool withParallel, bool withBf16, bool withUnrolled,
        TextWriter log, Device? device = null)
    {
        device ??= torch.CPU;
        bool cuda = device.type == DeviceType.CUDA;
        if (cuda && withParallel) throw new InputException("--parallel-steps: parallel steps share CPU cores between the two sides; measure them with --device cpu");
        int threads = torch.get_num_threads();
        double peak = MatmulPeak.Measure(device);
        log.WriteLine($"matmul peak: {peak:0.0} GFLOP/s");
        var loader = new DataLoader(cifar, null, CifarTransform.Train(Normalization.Cifar10), new LoaderOptions(batch, true, 1, DropLast: true, Workers: 1));
        var rows = new List<Row>();
        foreach (var spaceName in spaces)
        {
            var variants = new List<Variant>();
            foreach (var precision in withBf16 ? new[] { Precision.Float32, Precision.BFloat16 } : [Precision.Float32])
                foreach (var method in methods)
                {
                    foreach (bool fused in withReference && SupernetFactory.HasFusedCells(SearchSpaces.Get(spaceName)) ? new[] { false, true } : [true])
                        variants.Add(new Variant(spaceName, method, fused, parallel: false, unrolled: false, precision, threads, loader, device));
                    if (withParallel) variants.Add(new Variant(spaceName, method, fused: true, parallel: true, unrolled: false, precision, threads, loader, device));
                    // The second-order step runs in float32 only (it differences two gradients taken 2ε apart).
                    if (withUnrolled && precision == Precision.Float32)
                        variants.Add(new Variant(spaceName, method, fused: true, parallel: false, unrolled: true, precision, threads, loader, device));
                }
            // Peak memory, one variant at a time: resident memory above the process's after the allocator has given back
            // what it can (what a search shows, the heap's free and fragmented memory included), and the peak of what is
            // allocated (the step's tensors, however the allocator lays them out).
            foreach (var v in variants) { Threads(v, threads); v.MeasurePeak(); }
            // Step times: the variants take turns, one step each per round, so the machine's drift hits all alike.
            using var batches = Batches(loader).GetEnumerator();
            for (int round = 0; round < steps + 2; round++)
                foreach (var v in variants)
                {
                    batches.MoveNext(); using var b1 = batches.Current;
                    batches.MoveNext(); using var b2 = batches.Current;
                    Threads(v, threads);
                    v.Step(b1, b2, record: round >= 2);
                }
            foreach (var v in variants)
            {
                var row = v.Result(batch);
                rows.Add(row);
                log.WriteLine($"{Name(row)}: {row.StepMs:0.0} ms/step (arch {row.ArchMs:0.0} + weight {row.WeightMs:0.0}), " +
                              $"{row.ImagesPerSecond:0.0} images/s, peak {row.PeakMb:0} MB (allocated {row.AllocatedPeakMb:0} MB), {row.Gflops:0.0} GFLOP/s");
                v.Dispose();
            }
        }
        torch.set_num_threads(threads);

        string where = cuda ? TorchDevices.Describe(device) : $"{threads} torch thread{(threads == 1 ? "" : "s")} on {Environment.ProcessorCount} cores";
        var table = new BenchTable($"Search step, batch {batch}, first order{(withUnrolled ? " and second order" : "")} ({where}; data: {Path.GetFileName(cifar.Source.TrimEnd('/'))}; matmul peak {peak:0} GFLOP/s{(cuda ? "; peak MB: host memory" : "")})",
            "step ms", "arch ms", "weight ms", "images/s", "peak MB", "allocated peak MB", "fwd MFLOP/img", "GFLOP/s", "% of peak", "50 epochs, h");
        foreach (var r in rows)
            table.Add(Name(r), SettingsOf(r),
                ("step ms", r.StepMs), ("arch ms", r.ArchMs), ("weight ms", r.WeightMs), ("images/s", r.ImagesPerSecond), ("peak MB", r.PeakMb), ("allocated peak MB", r.AllocatedPeakMb),
                ("fwd MFLOP/img", r.ForwardMflopsPerImage), ("GFLOP/s", r.Gflops), ("% of peak", 100 * r.Gflops / peak), ("50 epochs, h", r.FullSearchHours));
        return (table, rows, peak);
    }

    /// <summary>Parallel steps run each side on one core of <paramref name="threads"/>; the others use them all.</summary>
    private static void Threads(Variant v, int threads) => torch.set_num_threads(v.Parallel ? ParallelSteps.ThreadsPerSide(threads) : threads);

    private static IEnumerable<HostBatch> Batches(DataLoader loader)
    {
        for (int epoch = 1; ; epoch++)
            foreach (var b in loader.Epoch(epoch)) yield return b;
    }

    /// <summary>One space x method x implementation: its supernet, optimizers and measurements.</summary>
    private sealed class Variant : IDisposable
    {
        private readonly SearchOptions _o;
        private readonly SearchSession _session;
        private readonly List<double> _arch = [], _weight = [], _total = [];
        private readonly long _macs;
        private double _peakMb, _allocatedPeakMb;

        private readonly Device _device;

        public Variant(string space, SearchMethod method, bool fused, bool parallel, bool unrolled, Precision precision, int threads, DataLoader loader, Device device)
        {
            _device = device;
            Space = space; Method = method; Fused = fused; Parallel = parallel;
            _o = OptionsFor(space, method) with { Precision = precision, Unrolled = unrolled };
            _macs = ForwardMacs(_o, loader);
            torch.manual_seed(1);
            _session = SearchSession.Create(_o with { ParallelSteps = parallel }, _o.SupernetConfig(10) with { Fused = fused }, new Compute(device, threads));
            _session.Net.train();
            _first = loader.Epoch(0).Take(2).Select(b => { using (b) return b.ToTensors(device); }).Select(t => (t.Images.DetachFromDisposeScope(), t.Labels.DetachFromDisposeScope())).ToList();
        }

        private readonly List<(Tensor, Tensor)> _first;

        public string Space { get; }
        public SearchMethod Method { get; }
        public bool Fused { get; }
        public bool Parallel { get; }
        public bool Unrolled => _o.Unrolled;
        public Precision Precision => _o.Precision;

        /// <summary>
        /// One step's peak memory above what the process holds before it: resident memory (after the allocator has
        /// given back what it can) and, sampled in the same step, what malloc holds (<see cref="AllocatedPeak"/>).
        /// </summary>
        public void MeasurePeak()
        {
            GC.Collect();
            SearchToDeploy.Core.Torch.NativeAllocator.Trim();
            bool reset = ProcessMemory.ResetPeak();
            long baseline = ProcessMemory.ResidentBytes();
            using var allocated = new AllocatedPeak();
            Run(_first[0].Item1, _first[0].Item2, _first[1].Item1, _first[1].Item2);
            // Without a reset the peak is an earlier variant's: not this step's, so not reported as it.
            _peakMb = reset ? (ProcessMemory.PeakResidentBytes() - baseline) / 1e6 : double.NaN;
            _allocatedPeakMb = AllocatedPeak.Supported ? allocated.PeakAboveStart / 1e6 : double.NaN;
        }

        public void Step(HostBatch train, HostBatch arch, bool record)
        {
            using var scope = torch.NewDisposeScope();
            var (xt, yt) = train.ToTensors(_device);
            var (xa, ya) = arch.ToTensors(_device);
            var (a, w, s) = Run(xt, yt, xa, ya);
            if (record) { _arch.Add(a); _weight.Add(w); _total.Add(s); }
        }

        /// <summary>One step; returns the milliseconds of its architecture part, its weight part and the whole
        /// (with parallel steps the parts overlap: each is the time of its own side).</summary>
        private (double Arch, double Weight, double Step) Run(Tensor xt, Tensor yt, Tensor xa, Tensor ya)
        {
            using var scope = torch.NewDisposeScope();
            TorchDevices.Synchronize(_device);
            var total = Stopwatch.StartNew();
            var r = _session.Strategy.Gradients(xt, yt, xa, ya, _o.LearningRate, archTrains: true);
            _session.Strategy.UpdateWeights(_o.LearningRate);
            TorchDevices.Synchronize(_device);
            return (r.ArchMilliseconds, r.WeightMilliseconds, total.Elapsed.TotalMilliseconds);
        }

        public Row Result(int batch)
        {
            double archMs = Median(_arch), weightMs = Median(_weight), stepMs = Median(_total);
            double fwdFlops = 2.0 * _macs;
            // In forward passes' worth of FLOPs (a backward pass costs 1 for the input gradients and 1 for the filter
            // gradients): the weight step 3, or 2 with random features (frozen filters get no gradient); the first-order
            // architecture step 2 (its gradients reach α through every layer, no filter gradients). The second-order
            // one adds ∇w L_train and ∇α,w' L_val at w' (3 each, 2 with random features) and ∇α L_train at w± (2 each).
            bool rf = _o.Method.RandomFeatures;
            double passes = Unrolled ? (rf ? 10 : 13) : (rf ? 4 : 5);
            double gflops = passes * fwdFlops * batch / (stepMs / 1000) / 1e9;
            double hours = 50.0 * (25_000 / batch) * stepMs / 1000 / 3600;
            return new Row(Space, Method, Fused, Parallel, Unrolled, Precision, stepMs, archMs, weightMs, 2.0 * batch / (stepMs / 1000), _peakMb, _allocatedPeakMb, fwdFlops / 1e6, gflops, hours);
        }

        public void Dispose()
        {
            foreach (var (x, y) in _first) { x.Dispose(); y.Dispose(); }
            _session.Dispose();
        }
    }

    private static string Name(Row r) => $"{r.Space} {r.Method.Name}{(r.Fused ? "" : " (reference cell)")}{(r.Parallel ? " (parallel steps)" : "")}{(r.Unrolled ? " (second order)" : "")}{(r.Precision == Precision.Float32 ? "" : $" ({r.Precision.Name()})")}";

    private static string SettingsOf(Row r)
    {
        var o = OptionsFor(r.Space, r.Method);
        return $"C={o.Channels}, {o.SearchSpace.Kind.DescribeLayers(o.Layers)}";
    }

    /// <summary>Options of the paper preset with first-order steps in DARTS's order, α first (the benchmark compares step
    /// costs, in every space the same step as the PyTorch peer bench/nb201_step.py; its second-order variants set
    /// <see cref="SearchOptions.Unrolled"/> themselves).</summary>
    public static SearchOptions OptionsFor(string space, SearchMethod method) =>
        SearchPresets.Create("paper", space, method) with { Unrolled = false, DropPath = 0, ArchWarmupEpochs = 0, WeightsFirst = false };

    /// <summary>Multiply-accumulates of one supernet forward pass per image, counted on the reference (edge by edge)
    /// network so that implementation tricks (stacked or padded filters) do not change the figure.</summary>
    private static long ForwardMacs(SearchOptions o, DataLoader loader)
    {
        torch.manual_seed(1);
        using var reference = SupernetFactory.Create(o.SupernetConfig(10) with { Fused = false });
        using var counter = new MacCounter(reference);
        using var _ = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        using var b = loader.Epoch(0).First();
        var (x, _) = b.ToTensors();
        // 16 images, not 1: with one torch thread libtorch sends a single image's 1x1 convolutions down a path that
        // probes NNPACK, which logs a warning per call on CPUs it does not support.
        long images = Math.Min(16, x.shape[0]);
        reference.call(x.narrow(0, 0, images));
        return counter.MultiplyAdds / images;
    }

    private static double Median(List<double> v)
    {
        if (v.Count == 0) return double.NaN;
        var s = v.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}
