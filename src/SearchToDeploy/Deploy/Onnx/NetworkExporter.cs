using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Runs.Training;
using static TorchSharp.torch;

namespace SearchToDeploy.Deploy.Onnx;

/// <summary>
/// Writes a trained evaluation network as an ONNX graph (opset 17): input <c>input</c> [N,3,H,W] float32 with a dynamic
/// batch, output <c>logits</c> [N,classes]. Cells become their ops (grouped/dilated Conv, Slice for FactorizedReduce,
/// AveragePool with padding 1 that does not count the padding, MaxPool, zeros for <c>none</c>), Add and Concat; the head is
/// GlobalAveragePool, Flatten, Gemm.
/// BatchNorm is folded into the preceding convolution unless <c>keepBatchNorm</c>; drop-path and the auxiliary head are
/// training-only and left out. The network is exported as evaluation mode computes it (BN running statistics).
/// </summary>
public static class NetworkExporter
{
    public static OnnxGraphBuilder Export(RetrainNetwork net, int inputSize, bool keepBatchNorm = false)
    {
        bool fold = !keepBatchNorm;
        var g = new OnnxGraphBuilder(RetrainNetwork.KindName(net.Kind) + "_network");
        string x = g.AddInput(3, inputSize, inputSize);
        string features = net switch
        {
            DartsNetwork d => Darts(g, d, x, fold),
            Nb201Network n => Nb201(g, n, x, fold),
            _ => throw new NotSupportedException($"no ONNX export for {net.GetType().Name}"),
        };
        string pooled = g.GlobalAveragePool(features);
        string flat = g.Flatten(pooled);
        var classifier = net switch { DartsNetwork d => d.Classifier, Nb201Network n => n.Classifier, _ => null! };
        string logits = g.Gemm(flat, classifier.weight!, classifier.bias, "classifier");
        g.AddOutput(logits, shape: [null, net.Classes]);
        return g;
    }

    private static string Darts(OnnxGraphBuilder g, DartsNetwork net, string x, bool fold)
    {
        string s0 = OnnxOpExporter.Export(g, net.Stem0, x, fold);
        string s1 = net.Stem1 is null ? s0 : OnnxOpExporter.Export(g, net.Stem1, s0, fold);
        foreach (var cell in net.Cells)
        {
            string next = Cell(g, cell, s0, s1, fold);
            s0 = s1; s1 = next;
        }
        return s1;
    }

    private static string Cell(OnnxGraphBuilder g, DartsCell cell, string s0, string s1, bool fold)
    {
        var states = new List<string> { OnnxOpExporter.Export(g, cell.Preprocess0, s0, fold), OnnxOpExporter.Export(g, cell.Preprocess1, s1, fold) };
        var ops = cell.Ops;
        for (int i = 0; i < ops.Count / 2; i++)
        {
            string h1 = OnnxOpExporter.Export(g, ops[2 * i], states[cell.Indices[2 * i]], fold);
            string h2 = OnnxOpExporter.Export(g, ops[2 * i + 1], states[cell.Indices[2 * i + 1]], fold);
            states.Add(g.Add(h1, h2, "node"));
        }
        return g.Concat([.. cell.ConcatNodes.Select(i => states[i])], 1, "cell");
    }

    private static string Nb201(OnnxGraphBuilder g, Nb201Network net, string x, bool fold)
    {
        string h = OnnxOpExporter.Export(g, net.Stem, x, fold);
        foreach (var m in net.Body)
        {
            if (m is Nb201Cell cell)
            {
                var nodes = new List<string> { h };
                for (int i = 1; i < SearchToDeploy.Nas.Architectures.Nb201Arch.Nodes; i++)
                {
                    string sum = OnnxOpExporter.Export(g, cell.Edges[SearchToDeploy.Nas.Architectures.Nb201Arch.EdgeIndex(i, 0)], nodes[0], fold);
                    for (int j = 1; j < i; j++)
                        sum = g.Add(sum, OnnxOpExporter.Export(g, cell.Edges[SearchToDeploy.Nas.Architectures.Nb201Arch.EdgeIndex(i, j)], nodes[j], fold), "node");
                    nodes.Add(sum);
                }
                h = nodes[^1];
            }
            else h = OnnxOpExporter.Export(g, m, h, fold);
        }
        return OnnxOpExporter.Export(g, net.LastAct, h, fold);
    }

    /// <summary>Training metrics that depend on the machine and the run's interruptions, left out of the model so that
    /// the same weights always give the same file.</summary>
    private static readonly string[] VolatileMetrics = ["train_seconds", "train_images_per_second"];

    /// <summary>
    /// The metadata of a model exported from a training run: its classes, preprocessing and network from the checkpoint,
    /// its genotype document with the export's provenance appended, and its metrics.
    /// </summary>
    public static ModelMetadata Metadata(TrainHeader h, string? metricsJson, bool keepBatchNorm, string source)
    {
        if (metricsJson is not null)
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(metricsJson)!.AsObject();
            foreach (var key in VolatileMetrics) node.Remove(key);
            metricsJson = node.ToJsonString();
        }
        var genotype = h.GenotypeDocument(source).With("export", new Dictionary<string, object?>
        {
            ["format"] = "onnx",
            ["opset"] = OnnxGraphBuilder.Opset,
            ["batch_norm"] = keepBatchNorm ? "kept" : "folded",
            ["producer"] = OnnxModelFile.Producer,
        });
        return new ModelMetadata(h.Classes, h.Preprocessing, genotype, RetrainNetwork.KindName(h.Network), h.Dataset, metricsJson ?? "{}",
            keepBatchNorm ? "kept" : "folded", OnnxModelFile.Producer);
    }
}
