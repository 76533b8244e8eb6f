using System.Diagnostics;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Runs.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// <c>s2d bench onnx</c>: evaluation throughput of the same trained network in ONNX Runtime (BN folded; on each of the
/// execution providers asked for) and in TorchSharp (evaluation mode, no_grad, on the device asked for), at several
/// batch sizes and the same CPU thread count. Every variant takes a host batch and returns host logits, so a GPU's
/// copies count as they do in serving. The variants take turns, one timed run each per round, so the machine's drift
/// hits all alike; the figure is the median run.
/// </summary>
public static class OnnxBenchmark
{
    public static BenchTable Run(string run, IReadOnlyList<int> batches, int threads, double secondsPerVariant, TextWriter log,
        IReadOnlyList<OnnxExecutionProvider>? providers = null, Device? device = null)
    {
        providers ??= [OnnxExecutionProvider.Cpu];
        device ??= torch.CPU;
        using var model = TrainedModel.Load(run);
        var h = model.Header;
        int s = h.InputSize;
        if (threads > 0) torch.set_num_threads(threads); // 0: torch's default, all cores
        // The exporter reads the weights on the CPU; the TorchSharp side then moves to the device measured.
        var proto = BenchInputs.Onnx(model);
        model.Network.to(device);
        var sessions = providers.Select(p => new OnnxInference(proto, p, threads)).ToList();
        try
        {
            string torchName = $"TorchSharp {TorchDevices.Describe(device)}";
            var names = sessions.Select(o => $"ORT {o.Provider.Name()}").Append(torchName).ToList();
            var table = new BenchTable($"Evaluation throughput, {Nas.Networks.RetrainNetwork.KindName(h.Network)} network ({h.Architecture}), {s}x{s}, {(threads > 0 ? $"{threads} CPU threads" : "all CPU cores")}; host batch in, host logits out",
                [.. names.Select(n => $"{n} images/s"), .. sessions.Select(o => $"ORT {o.Provider.Name()} / TorchSharp")]);
            foreach (int n in batches)
            {
                var x = BenchInputs.NormalImages(n, s);
                using var xt = torch.tensor(x, [n, 3, s, s]);
                var runs = sessions.Select(o => (Func<double>)(() => { var w = Stopwatch.StartNew(); o.Run(x, [n, 3, s, s]); return w.Elapsed.TotalSeconds; })).ToList();
                runs.Add(() =>
                {
                    var w = Stopwatch.StartNew();
                    using (torch.no_grad()) using (var xd = xt.to(device)) using (var y = model.Network.call(xd)) using (var yh = y.cpu()) { }
                    return w.Elapsed.TotalSeconds;
                });
                foreach (var r in runs) r(); // warm-up
                var times = runs.Select(_ => new List<double>()).ToList();
                var total = Stopwatch.StartNew();
                while (times[0].Count < 3 || total.Elapsed.TotalSeconds < runs.Count * secondsPerVariant)
                {
                    for (int k = 0; k < runs.Count; k++) times[k].Add(runs[k]());
                    if (times[0].Count >= 200) break;
                }
                var ips = times.Select(t => n / t.Order().ElementAt(t.Count / 2)).ToList();
                double torchIps = ips[^1];
                log.WriteLine($"batch {n}: " + string.Join(", ", names.Select((name, k) => $"{name} {ips[k]:0.0} images/s")) + $" ({times[0].Count} runs each)");
                table.Add($"batch {n}", $"{times[0].Count} runs each",
                    [.. names.Select((name, k) => ($"{name} images/s", ips[k])), .. sessions.Select((o, k) => ($"ORT {o.Provider.Name()} / TorchSharp", ips[k] / torchIps))]);
            }
            return table;
        }
        finally
        {
            foreach (var o in sessions) o.Dispose();
        }
    }
}
