using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using SearchToDeploy.Core;
using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Runs.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Deploy.Export;

/// <summary>
/// <c>s2d export</c>: a training run's best checkpoint to an ONNX file with its metadata. The file is built in memory,
/// checked against the TorchSharp model in evaluation mode in ONNX Runtime on random inputs and on real images (every
/// logit within <see cref="Tolerance"/> of TorchSharp's, relative to the logit where it is above 1: float32 rounding
/// grows with the logits of a deep network), and only then written atomically.
/// </summary>
public static class ModelExporter
{
    public const double Tolerance = 1e-4;

    public static ParityResult Export(string run, string output, TextWriter log, bool keepBatchNorm = false, IImageDataset? images = null,
        int imageCount = 64, int randomInputs = 8, double tolerance = Tolerance)
    {
        using var model = TrainedModel.Load(run);
        return Export(model, run, output, log, keepBatchNorm, images, imageCount, randomInputs, tolerance);
    }

    /// <summary>Exports an already loaded model; <paramref name="run"/> is its run folder (for metrics.json) or checkpoint file.</summary>
    public static ParityResult Export(TrainedModel model, string run, string output, TextWriter log, bool keepBatchNorm = false,
        IImageDataset? images = null, int imageCount = 64, int randomInputs = 8, double tolerance = Tolerance)
    {
        var h = model.Header;
        var watch = Stopwatch.StartNew();
        var graph = NetworkExporter.Export(model.Network, h.InputSize, keepBatchNorm);
        string? metricsPath = Directory.Exists(run) ? Path.Combine(run, TrainRunFolder.MetricsJson) : null;
        string? metrics = metricsPath is not null && File.Exists(metricsPath) ? File.ReadAllText(metricsPath) : null;
        var proto = OnnxModelFile.CreateModel(graph, NetworkExporter.Metadata(h, metrics, keepBatchNorm, run).ToDictionary(),
            $"{h.ParseArchitecture().Space} cell {h.Architecture} in the {Nas.Networks.RetrainNetwork.KindName(h.Network)} network, trained on {h.Dataset}");
        byte[] bytes = proto.ToByteArray();
        log.WriteLine($"export: {graph.Graph.Node.Count} ONNX nodes, {bytes.Length / 1e6:0.00} MB, batch norm {(keepBatchNorm ? "kept" : "folded")} ({watch.Elapsed.TotalSeconds:0.0}s)");

        var parity = Parity(model, bytes, images, imageCount, randomInputs);
        log.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "parity (ONNX Runtime vs TorchSharp, evaluation mode): max |logit difference| {0:0.###e+0} on {1} random inputs, {2:0.###e+0} on {3} real images; top-1 {4}; tolerance {5:0.#e+0} (relative above 1)",
            parity.RandomMaxAbsDiff, parity.RandomInputs, parity.ImagesMaxAbsDiff, parity.Images, parity.SameTop1 ? "identical" : "DIFFERS", tolerance));
        if (!(parity.MaxScaledDiff <= tolerance))
            throw new ParityException($"the ONNX model's logits differ from the TorchSharp model's by {parity.MaxAbsDiff:0.###e+0} ({parity.MaxScaledDiff:0.###e+0} " +
                                      $"relative to logits above 1; tolerance {tolerance:0.#e+0}); {output} was not written");
        OnnxModelFile.Write(output, proto);
        log.WriteLine($"wrote {Path.GetFullPath(output)}");
        return parity;
    }

    private static ParityResult Parity(TrainedModel model, byte[] onnx, IImageDataset? images, int imageCount, int randomInputs)
    {
        var h = model.Header;
        int s = h.InputSize;
        using var session = new OnnxInference(onnx, OnnxExecutionProvider.Cpu);
        bool sameTop1 = true;
        double scaled = 0;
        double Compare(float[] x, int n)
        {
            var ort = session.Run(x, [n, 3, s, s]);
            using var _ = torch.no_grad();
            using var input = torch.tensor(x, [n, 3, s, s]);
            using var logits = model.Network.call(input);
            var reference = logits.data<float>().ToArray();
            if (ort.Length != reference.Length)
                throw new ParityException($"ONNX Runtime gives {ort.Length} logits for {n} inputs, TorchSharp {reference.Length}: the exported graph's output is not the network's");
            double max = 0;
            for (int i = 0; i < ort.Length; i++)
            {
                double d = Math.Abs(ort[i] - reference[i]);
                max = Math.Max(max, d);
                scaled = Math.Max(scaled, d / Math.Max(1, Math.Abs(reference[i])));
            }
            for (int i = 0; i < n; i++)
                sameTop1 &= ArgMax(ort.AsSpan(i * h.Classes.Count, h.Classes.Count)) == ArgMax(reference.AsSpan(i * h.Classes.Count, h.Classes.Count));
            if (double.IsNaN(ort.Concat(reference).Sum())) scaled = double.NaN;
            return double.IsNaN(scaled) ? double.NaN : max;
        }
        using var gen = new torch.Generator(0);
        float[] random;
        using (var r = torch.randn([randomInputs, 3, s, s], generator: gen)) random = r.data<float>().ToArray();
        double randomDiff = Compare(random, randomInputs);
        double imageDiff = 0;
        int count = 0;
        if (images is not null && images.Count > 0 && imageCount > 0) // --parity-images 0: random inputs only
        {
            count = Math.Min(imageCount, images.Count);
            var tf = h.Preprocessing.Transform();
            var batch = new float[count * 3 * s * s];
            for (int i = 0; i < count; i++)
            {
                var rng = new Rng(0);
                tf.Apply(images.Load(i * Math.Max(1, images.Count / count)), ref rng, batch.AsSpan(i * 3 * s * s, 3 * s * s));
            }
            imageDiff = Compare(batch, count);
        }
        return new ParityResult(randomDiff, imageDiff, randomInputs, count, sameTop1) { MaxScaledDiff = scaled };
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
