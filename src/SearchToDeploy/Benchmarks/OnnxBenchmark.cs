using System.Diagnostics;
using Google.Protobuf;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Runs.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// <c>s2d bench onnx</c>: evaluation throughput of the same trained network in ONNX Runtime (CPU, BN folded) and in
/// TorchSharp (evaluation mode, no_grad), at several batch sizes and the same thread count. The two take turns, one
/// timed run each per round, so the machine's drift hits both alike; the figure is the median run.
/// </summary>
public static class OnnxBenchmark
{
    public static BenchTable Run(string run, IReadOnlyList<int> batches, int threads, double secondsPerVariant, TextWriter log)
    {
        using var model = TrainedModel.Load(run);
        var h = model.Header;
        int s = h.InputSize;
        torch.set_num_threads(threads);
        var proto = OnnxModelFile.CreateModel(NetworkExporter.Export(model.Network, s));
        using var ort = new OnnxInference(proto.ToByteArray(), OnnxExecutionProvider.Cpu, threads);
        var table = new BenchTable($"Evaluation throughput, {Nas.Networks.RetrainNetwork.KindName(h.Network)} network ({h.Architecture}), {s}x{s}, {threads} threads, CPU",
            "ORT images/s", "TorchSharp images/s", "ORT / TorchSharp");
        foreach (int n in batches)
        {
            var x = new float[n * 3 * s * s];
            var rng = new Random(0);
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
            using var xt = torch.tensor(x, [n, 3, s, s]);
            double RunOrt() { var w = Stopwatch.StartNew(); ort.Run(x, [n, 3, s, s]); return w.Elapsed.TotalSeconds; }
            double RunTorch()
            {
                var w = Stopwatch.StartNew();
                using (torch.no_grad()) using (var y = model.Network.call(xt)) { }
                return w.Elapsed.TotalSeconds;
            }
            RunOrt(); RunTorch(); // warm-up
            var a = new List<double>(); var b = new List<double>();
            var total = Stopwatch.StartNew();
            while (a.Count < 3 || total.Elapsed.TotalSeconds < 2 * secondsPerVariant)
            {
                a.Add(RunOrt());
                b.Add(RunTorch());
                if (a.Count >= 200) break;
            }
            double ortIps = n / a.Order().ElementAt(a.Count / 2), torchIps = n / b.Order().ElementAt(b.Count / 2);
            log.WriteLine($"batch {n}: ONNX Runtime {ortIps:0.0} images/s, TorchSharp {torchIps:0.0} images/s, ratio {ortIps / torchIps:0.00} ({a.Count} runs each)");
            table.Add($"batch {n}", $"{a.Count} runs each", ("ORT images/s", ortIps), ("TorchSharp images/s", torchIps), ("ORT / TorchSharp", ortIps / torchIps));
        }
        return table;
    }
}
