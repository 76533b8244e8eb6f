using System.Globalization;
using System.Text;
using System.Text.Json;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Deploy.Validation;
using SearchToDeploy.Reporting;
using SearchToDeploy.Runs.Training;

namespace SearchToDeploy.Pipeline;

/// <summary>The README.md of a packaged model: what it is, how good, how it was made, how to serve it.</summary>
public static class ModelCard
{
    public static string Write(string run, PipelineProfile profile, ValidationReport report, PackageFolder package, TrainRunFolder train)
    {
        var inv = CultureInfo.InvariantCulture;
        var meta = OnnxModelFile.ReadMetadata(package[PackageFolder.Model]);
        JsonElement metrics = File.Exists(train[TrainRunFolder.MetricsJson])
            ? JsonDocument.Parse(File.ReadAllText(train[TrainRunFolder.MetricsJson])).RootElement : default;
        string M(string key, string format = "0.##") => metrics.ValueKind == JsonValueKind.Object && metrics.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble().ToString(format, inv) : "?";
        var sb = new StringBuilder();
        sb.AppendLine($"# {run}");
        sb.AppendLine();
        sb.AppendLine($"An image classifier found by {profile.Search.Method.Name} in the {profile.Search.Space} search space on {profile.Search.Dataset}, " +
                      $"retrained as the {meta.GetValueOrDefault(ModelMetadata.Keys.Network)} network on {profile.Train.Dataset}, exported to ONNX and validated with ONNX Runtime " +
                      $"(SearchToDeploy, profile `{profile.Name}`).");
        sb.AppendLine();
        sb.AppendLine("| | |");
        sb.AppendLine("|---|---|");
        sb.AppendLine(string.Format(inv, "| top-1 | **{0:0.00}%** (gate {1:0.##}%) |", report.Top1, report.GateTop1));
        sb.AppendLine(string.Format(inv, "| top-5 | **{0:0.00}%** (gate {1:0.##}%) |", report.Top5, report.GateTop5));
        sb.AppendLine($"| validated on | {report.Images:N0} images of {report.Dataset}, {report.ExecutionProvider} |");
        sb.AppendLine($"| parameters | {M("parameters", "N0")} |");
        sb.AppendLine($"| multiply-adds | {M("multiply_adds", "N0")} at {meta.GetValueOrDefault(ModelMetadata.Keys.InputSize)}x{meta.GetValueOrDefault(ModelMetadata.Keys.InputSize)} |");
        sb.AppendLine(string.Format(inv, "| ONNX Runtime throughput | {0:0} images/s (batch {1}), batch latency p50 {2:0.0} ms, p99 {3:0.0} ms |", report.ImagesPerSecond, report.BatchSize, report.LatencyP50Ms, report.LatencyP99Ms));
        sb.AppendLine($"| classes | {JsonSerializer.Deserialize<string[]>(meta[ModelMetadata.Keys.Classes])!.Length} |");
        sb.AppendLine();
        if (report.PerClass.Count is > 0 and <= 100)
        {
            sb.AppendLine("## Accuracy per class");
            sb.AppendLine();
            sb.AppendLine("| class | images | top-1 |");
            sb.AppendLine("|---|---:|---:|");
            foreach (var c in report.PerClass) sb.AppendLine(string.Format(inv, "| {0} | {1:N0} | {2:0.0}% |", c.Label, c.Images, c.Top1));
            sb.AppendLine();
        }
        sb.AppendLine("## The cell");
        sb.AppendLine();
        sb.AppendLine($"`{meta[ModelMetadata.Keys.Architecture]}`");
        sb.AppendLine();
        foreach (var f in CellDrawings.SvgFiles)
            if (File.Exists(package[f])) sb.AppendLine($"![{Path.GetFileNameWithoutExtension(f).Replace('_', ' ')}]({f})");
        sb.AppendLine();
        sb.AppendLine("## How it was made");
        sb.AppendLine();
        var s = profile.Search; var t = profile.Train;
        sb.AppendLine($"- Search: `{s.Method.Name}`, space `{s.Space}`, {s.Dataset}, preset `{s.Preset}`, {s.Epochs} epochs, batch {s.BatchSize}, seed {s.Seed}; " +
                      (s.Method.RandomFeatures
                          ? $"random features: the supernet's convolutions frozen at their random initialisation, BN affine parameters trained{(s.TrainClassifier ? ", classifier trained" : "")}."
                          : "all supernet weights trained (no random features)."));
        sb.AppendLine($"- Retraining: preset `{t.Preset}`, C={t.Channels}, {t.Layers} cells{(s.Space == "nas-bench-201" ? " per stage" : "")}, {t.Epochs} epochs, batch {t.BatchSize}, " +
                      string.Format(inv, "{0} lr {1}, weight decay {2}, seed {3}; best top-1 during training {4}% (epoch {5}).", t.Schedule.ToString().ToLowerInvariant(), t.LearningRate, t.WeightDecay, t.Seed, M("best_top1"), M("best_epoch", "0")));
        sb.AppendLine($"- Export: ONNX opset {OnnxGraphBuilder.Opset}, batch norm {meta.GetValueOrDefault(ModelMetadata.Keys.BatchNorm)}, parity with TorchSharp checked to 1e-4; " +
                      $"preprocessing: {meta.GetValueOrDefault(ModelMetadata.Keys.Preprocessing)}.");
        sb.AppendLine($"- Producer: {meta.GetValueOrDefault(ModelMetadata.Keys.Producer)}; run folders and manifests (configuration, input hashes, versions, commit) in `runs/{run}/`.");
        sb.AppendLine();
        if (File.Exists(package[PackageFolder.TrainingCurves])) sb.AppendLine($"![training curves]({PackageFolder.TrainingCurves})").AppendLine();
        if (File.Exists(package[PackageFolder.SearchCurves])) sb.AppendLine($"![search curves]({PackageFolder.SearchCurves})").AppendLine();
        sb.AppendLine("## Serve it");
        sb.AppendLine();
        sb.AppendLine("```sh");
        sb.AppendLine($"s2d serve --model models/{run}/model.onnx --urls http://127.0.0.1:5000");
        sb.AppendLine("curl -X POST -H 'Content-Type: image/jpeg' --data-binary @image.jpg http://127.0.0.1:5000/v1/classify");
        sb.AppendLine("```");
        sb.AppendLine();
        sb.AppendLine("Input `input` [N,3,H,W] float32 after the preprocessing above; output `logits` [N,classes]. The class labels, mean/std and sizes are in the model's metadata (`GET /v1/model`).");
        return sb.ToString();
    }
}
