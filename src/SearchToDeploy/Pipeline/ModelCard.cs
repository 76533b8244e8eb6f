using System.Globalization;
using System.Text;
using System.Text.Json;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Deploy.Validation;
using SearchToDeploy.Reporting;
using SearchToDeploy.Runs.Search;
using SearchToDeploy.Runs.Training;

namespace SearchToDeploy.Pipeline;

/// <summary>The README.md of a packaged model: what it is, how good, how it was made, how to serve it.</summary>
public static class ModelCard
{
    /// <param name="runDir">The run's folder and <paramref name="packageDir"/> the package's, as the card names them
    /// (<see cref="Shown"/>: relative, never this machine's absolute paths).</param>
    public static string Write(string run, PipelineProfile profile, ValidationReport report, PackageFolder package, TrainRunFolder train,
        string? runDir = null, string? packageDir = null)
    {
        runDir ??= $"runs/{run}";
        packageDir ??= $"models/{run}";
        var inv = CultureInfo.InvariantCulture;
        var meta = OnnxModelFile.ReadMetadata(package[PackageFolder.Model]);
        JsonElement metrics = File.Exists(train[TrainRunFolder.MetricsJson])
            ? JsonDocument.Parse(File.ReadAllText(train[TrainRunFolder.MetricsJson])).RootElement : default;
        string M(string key, string format = "0.##") => metrics.ValueKind == JsonValueKind.Object && metrics.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetDouble().ToString(format, inv) : "?";
        string dataset = ValidationReport.DatasetNameOf(report.Dataset);
        bool imageNet = dataset is "imagenet" or "imagenette";
        bool perturbation = profile.Search.Selection == CellSelection.Perturbation;
        // With 5 classes or fewer every label is among the top 5: the figure says nothing, and the card says so.
        int classes = meta.TryGetValue(ModelMetadata.Keys.Classes, out var names) ? JsonSerializer.Deserialize<string[]>(names)?.Length ?? 0 : 0;
        bool trivialTop5 = classes is > 0 and <= 5;
        var sb = new StringBuilder();
        // Front matter as model hubs read it: licence, datasets, tags, library and the validated metrics (model-index).
        sb.AppendLine("---");
        sb.AppendLine("license: other");
        sb.AppendLine($"license_name: {(imageNet ? "imagenet-terms" : "dataset-terms")}");
        sb.AppendLine("library_name: onnx");
        sb.AppendLine("pipeline_tag: image-classification");
        sb.AppendLine("tags: [image-classification, neural-architecture-search, " + (profile.Search.Method.RandomFeatures ? "random-features, " : "") +
                      $"{profile.Search.Method.Name}, {profile.Search.Space}-space, onnx, searchtodeploy]");
        sb.AppendLine($"datasets: [{string.Join(", ", new[] { profile.Search.Dataset, dataset }.Distinct())}]");
        sb.AppendLine("model-index:");
        sb.AppendLine($"  - name: {JsonSerializer.Serialize(run)}"); // quoted: a run name may hold ': ' or '#', which plain YAML would read otherwise
        sb.AppendLine("    results:");
        sb.AppendLine("      - task: {type: image-classification}");
        sb.AppendLine($"        dataset: {{name: {dataset}, type: {dataset}, split: {(IsSubset(report, dataset) ? "validation subset" : "validation")}}}");
        sb.AppendLine("        metrics:");
        sb.AppendLine(string.Format(inv, "          - {{type: accuracy, name: top-1 accuracy, value: {0:0.00}}}", report.Top1));
        if (!trivialTop5) sb.AppendLine(string.Format(inv, "          - {{type: top_5_accuracy, name: top-5 accuracy, value: {0:0.00}}}", report.Top5));
        sb.AppendLine("---");
        sb.AppendLine();
        sb.AppendLine($"# {run}");
        sb.AppendLine();
        sb.AppendLine($"An image classifier found by {profile.Search.Method.Name} in the {profile.Search.Space} search space on {profile.Search.Dataset}, " +
                      $"retrained as the {meta.GetValueOrDefault(ModelMetadata.Keys.Network)} network on {profile.Train.Dataset}, exported to ONNX and validated with ONNX Runtime " +
                      $"(SearchToDeploy, profile `{profile.Name}`).");
        sb.AppendLine();
        sb.AppendLine("| | |");
        sb.AppendLine("|---|---|");
        sb.AppendLine(string.Format(inv, "| top-1 | **{0:0.00}%** (gate {1:0.##}%) |", report.Top1, report.GateTop1));
        sb.AppendLine(trivialTop5
            ? $"| top-5 | 100% by construction: the model has {classes} classes, all of them in any top 5 |"
            : string.Format(inv, "| top-5 | **{0:0.00}%** (gate {1:0.##}%) |", report.Top5, report.GateTop5));
        sb.AppendLine($"| validated on | {report.Images:N0} {(IsSubset(report, dataset) && report.SplitImages > 0 ? $"of the {report.SplitImages:N0} images" : "images")} of {dataset}'s evaluation split, ONNX Runtime {report.ExecutionProvider} |");
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
                          : "all supernet weights trained (no random features).") +
                      (perturbation
                          ? $" The cell was selected by perturbation (DARTS-PT's rule, without its fine-tuning): each edge's op (and, in DARTS-style cells, each node's two inputs) chosen by what removing it cost the trained supernet on {s.SelectionImages:N0} held-out images, not by the largest α."
                          : " The cell keeps each edge's op of largest α."));
        sb.AppendLine($"- Retraining: preset `{t.Preset}`, C={t.Channels}, {t.Layers} cells{(s.Space == "nas-bench-201" ? " per stage" : "")}, {t.Epochs} epochs, batch {t.BatchSize}, " +
                      string.Format(inv, "{0} lr {1}, weight decay {2}, seed {3}; best top-1 during training {4}% (epoch {5}); the packaged weights are that epoch's, chosen on the evaluation split the figures above come from, so they are slightly optimistic.", t.Schedule.ToString().ToLowerInvariant(), t.LearningRate, t.WeightDecay, t.Seed, M("best_top1"), M("best_epoch", "0")));
        sb.AppendLine($"- Export: ONNX opset {OnnxGraphBuilder.Opset}, batch norm {meta.GetValueOrDefault(ModelMetadata.Keys.BatchNorm)}, parity with TorchSharp checked to 1e-4; " +
                      $"preprocessing: {meta.GetValueOrDefault(ModelMetadata.Keys.Preprocessing)}.");
        sb.AppendLine($"- Producer: {meta.GetValueOrDefault(ModelMetadata.Keys.Producer)}; run folders and manifests (configuration, input hashes, versions, commit) in `{runDir}/`.");
        sb.AppendLine();
        if (File.Exists(package[PackageFolder.TrainingCurves])) sb.AppendLine($"![training curves]({PackageFolder.TrainingCurves})").AppendLine();
        if (File.Exists(package[PackageFolder.SearchCurves])) sb.AppendLine($"![search curves]({PackageFolder.SearchCurves})").AppendLine();
        sb.AppendLine("## Serve it");
        sb.AppendLine();
        sb.AppendLine("```sh");
        sb.AppendLine($"s2d serve --model {packageDir}/model.onnx --urls http://127.0.0.1:5000");
        sb.AppendLine("curl -X POST -H 'Content-Type: image/jpeg' --data-binary @image.jpg http://127.0.0.1:5000/v1/classify");
        sb.AppendLine("```");
        sb.AppendLine();
        sb.AppendLine("Input `input` [N,3,H,W] float32 after the preprocessing above; output `logits` [N,classes]. The class labels, mean/std and sizes are in the model's metadata (`GET /v1/model`).");
        sb.AppendLine();
        sb.AppendLine("## Intended use and limitations");
        sb.AppendLine();
        sb.AppendLine($"Classifies images into the {JsonSerializer.Deserialize<string[]>(meta[ModelMetadata.Keys.Classes])!.Length} classes above and nothing else: any other image still gets one of them. " +
                      $"The accuracy holds for images like {dataset}'s (centred photographs, seen at {meta.GetValueOrDefault(ModelMetadata.Keys.InputSize)} px); " +
                      "it has not been measured for other sources, for robustness or across groups of people. " +
                      (profile.Name == "smoke" ? "This is a smoke-test model trained for minutes: it checks the chain's mechanics, not a useful accuracy. " : "") +
                      (imageNet ? "The weights were trained on ImageNet images, whose terms allow non-commercial research and education only. " : "") +
                      "A search at a small budget finds a cell that another seed may not find again; the search log gives the margins of each choice.");
        sb.AppendLine();
        sb.AppendLine("## Citation");
        sb.AppendLine();
        sb.AppendLine(profile.Search.Method.RandomFeatures
            ? "The search method (random features: only BatchNorm affine parameters trained in the supernet)" + (perturbation ? " and the cell selection:" : ":")
            : $"The search ran {profile.Search.Method.Name} without random features; the random-feature method this tool is built around" + (perturbation ? ", and the cell selection:" : ":"));
        sb.AppendLine();
        sb.AppendLine("```bibtex");
        sb.AppendLine("@inproceedings{zhang2023rfdarts,");
        sb.AppendLine("  title     = {Differentiable Architecture Search with Random Features},");
        sb.AppendLine("  author    = {Zhang, Xuanyang and Li, Yonggang and Zhang, Xiangyu and Wang, Yongtao and Sun, Jian},");
        sb.AppendLine("  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},");
        sb.AppendLine("  year      = {2023}");
        sb.AppendLine("}");
        if (perturbation)
        {
            sb.AppendLine();
            sb.AppendLine("@inproceedings{wang2021rethinking,");
            sb.AppendLine("  title     = {Rethinking Architecture Selection in Differentiable NAS},");
            sb.AppendLine("  author    = {Wang, Ruochen and Cheng, Minhao and Chen, Xiangning and Tang, Xiaocheng and Hsieh, Cho-Jui},");
            sb.AppendLine("  booktitle = {International Conference on Learning Representations (ICLR)},");
            sb.AppendLine("  year      = {2021}");
            sb.AppendLine("}");
        }
        sb.AppendLine("```");
        return sb.ToString();
    }

    /// <summary>Whether fewer images were validated than the split holds (reports of earlier builds: the ImageNet sample's rule).</summary>
    private static bool IsSubset(ValidationReport report, string dataset) =>
        report.SplitImages > 0 ? report.Images < report.SplitImages : report.Images < 10_000 && dataset == "imagenet";

    /// <summary>
    /// A validation report's dataset without the folder it was read from ("imagenette (/data/imagenette-64)" is
    /// "imagenette"): a package names no path of the machine that built it.
    /// </summary>

    /// <summary>
    /// A folder as a card may name it: relative to the working directory where it lies below it, else its parent's
    /// name and its own (a card travels with its model; absolute paths of the machine that built it stay out).
    /// </summary>
    public static string Shown(string folder)
    {
        string full = Path.GetFullPath(folder);
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, full);
        return (!relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative)
            ? relative : Path.Combine(Path.GetFileName(Path.GetDirectoryName(full)) ?? "", Path.GetFileName(full))).Replace('\\', '/');
    }
}
