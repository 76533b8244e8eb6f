using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Inference;

namespace SearchToDeploy.Deploy.Validation;

/// <summary>
/// <c>s2d validate</c>: top-1, top-5 and per-class accuracy of an exported model on a labelled dataset in ONNX
/// Runtime, with throughput and per-batch latency percentiles (inference only), and the accuracy gates.
/// </summary>
public static class Validator
{
    public static ValidationReport Run(DeployedModel model, IImageDataset data, string datasetName, int batchSize, int maxImages,
        double? gateTop1, double? gateTop5, TextWriter log, int workers = 2)
    {
        ValidationReport.CheckGate("the top-1 gate", gateTop1);
        ValidationReport.CheckGate("the top-5 gate", gateTop5);
        if (data.Classes.Count != model.Classes.Count)
            throw new InputException($"{datasetName}: {data.Classes.Count} classes, but {model.Path} classifies {model.Classes.Count}; validate on the dataset the model was trained for");
        // The dataset's label i is the model's class map[i]: the same index, or the same name where the dataset lists
        // the model's classes in another order.
        var map = Enumerable.Range(0, data.Classes.Count).ToArray();
        var differing = data.Classes.Zip(model.Classes).Count(p => p.First != p.Second);
        if (differing > 0 && data.Classes.Order(StringComparer.Ordinal).SequenceEqual(model.Classes.Order(StringComparer.Ordinal)) && data.Classes.Distinct().Count() == data.Classes.Count)
        {
            var index = model.Classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
            map = [.. data.Classes.Select(c => index[c])];
            log.WriteLine($"{datasetName}: the dataset lists the model's classes in another order; matching them by name");
        }
        else if (differing > 0) log.WriteLine($"warning: {differing} of the dataset's class names differ from the model's labels; matching classes by index");
        if (gateTop5 is not null && model.Classes.Count <= 5)
            log.WriteLine($"warning: with {model.Classes.Count} classes every label is in the top 5: the top-5 gate checks nothing here");
        int[]? indices = Subsets.Stratified(data, maxImages, seed: 0);
        var loader = new DataLoader(data, indices, model.Transform, new LoaderOptions(batchSize, false, 0, Workers: workers));
        log.WriteLine($"validate: {model.Path} on {datasetName} ({loader.Count} images, batch {batchSize}), execution provider {model.Provider.Name()}" +
                      (model.FallbackReason is { } why ? $" (CUDA unavailable: {FirstLine(why)})" : ""));
        int classes = model.Classes.Count;
        var perClassSeen = new int[classes];
        var perClassHit = new int[classes];
        long top1 = 0, top5 = 0, seen = 0, nonFinite = 0;
        var latencies = new List<double>();
        var meter = new ProgressMeter("validate", loader.Count, "images", log, TimeSpan.FromSeconds(15));
        foreach (var b in loader.Epoch(0))
        {
            using (b)
            {
                float[] x = b.Images.ToArray();
                var watch = Stopwatch.StartNew();
                var logits = model.Logits(x, b.Count);
                latencies.Add(watch.Elapsed.TotalMilliseconds);
                for (int i = 0; i < b.Count; i++)
                {
                    int label = map[(int)b.Labels[i]];
                    perClassSeen[label]++;
                    var row = logits.AsSpan(i * classes, classes);
                    if (!DeployedModel.AllFinite(row)) { nonFinite++; continue; } // a miss: NaN ranks no class first
                    var top = DeployedModel.TopK(row, 5);
                    if (top[0].Index == label) { top1++; perClassHit[label]++; }
                    if (top.Any(t => t.Index == label)) top5++;
                }
                seen += b.Count;
            }
            meter.Report(seen, string.Format(CultureInfo.InvariantCulture, "top-1 {0:0.00}%", 100.0 * top1 / seen));
        }
        if (seen == 0) throw new InputException($"{datasetName}: no images to validate on");
        latencies.Sort();
        double P(double q) => Core.Percentiles.NearestRank(latencies, q);
        double t1 = 100.0 * top1 / seen, t5 = 100.0 * top5 / seen;
        bool passed = ValidationReport.Meets(t1, gateTop1) && ValidationReport.Meets(t5, gateTop5);
        if (nonFinite > 0)
            log.WriteLine($"warning: {nonFinite} of {seen} images gave logits that are not finite numbers (NaN or infinity); counted as misses");
        var report = new ValidationReport
        {
            Model = model.Path, Dataset = datasetName, ExecutionProvider = model.Provider.Name(), CudaFallbackReason = model.FallbackReason is { } r ? FirstLine(r) : null,
            Images = (int)seen, SplitImages = data.Count, BatchSize = batchSize, Top1 = t1, Top5 = t5, Top1Correct = top1, Top5Correct = top5,
            ImagesPerSecond = seen / (latencies.Sum() / 1000), LatencyP50Ms = P(0.5), LatencyP90Ms = P(0.9), LatencyP99Ms = P(0.99),
            GateTop1 = gateTop1, GateTop5 = gateTop5, Passed = passed, NonFiniteImages = nonFinite,
            PerClass = [.. Enumerable.Range(0, classes).Select(c => new ClassAccuracy(model.Classes[c], perClassSeen[c], perClassSeen[c] == 0 ? double.NaN : 100.0 * perClassHit[c] / perClassSeen[c]))
                .Where(c => c.Images > 0)],
            Created = DateTime.UtcNow.ToString("o", CultureInfo.InvariantCulture),
        };
        log.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "top-1 {0:0.00}% ({1}/{2}), top-5 {3:0.00}%; {4:0.0} images/s, batch latency p50 {5:0.0} ms, p90 {6:0.0} ms, p99 {7:0.0} ms ({8})",
            t1, top1, seen, t5, report.ImagesPerSecond, report.LatencyP50Ms, report.LatencyP90Ms, report.LatencyP99Ms, report.ExecutionProvider));
        if (report.PerClass.Count <= 100)
            log.WriteLine("top-1 per class: " + string.Join(", ", report.PerClass.Select(c => string.Format(CultureInfo.InvariantCulture, "{0} {1:0.0}% ({2})", c.Label, c.Top1, c.Images))));
        return report;
    }

    /// <summary>Writes the report (atomically) and throws <see cref="GateFailedException"/> when a gate is not met.</summary>
    public static void WriteAndGate(ValidationReport report, string? path, TextWriter log, string? junitPath = null)
    {
        if (path is not null)
        {
            AtomicFile.WriteAllText(path, JsonSerializer.Serialize(report, ValidationReport.Json) + "\n");
            log.WriteLine($"report: {Path.GetFullPath(path)}");
        }
        if (junitPath is not null)
        {
            JUnitReport.Write(report, junitPath);
            log.WriteLine($"JUnit XML: {Path.GetFullPath(junitPath)}");
        }
        var failures = new List<string>();
        if (!ValidationReport.Meets(report.Top1, report.GateTop1))
            failures.Add($"top-1 {ValidationReport.Percent(report.Top1)} ({report.Top1Correct}/{report.Images}) is under the gate of {ValidationReport.Percent(report.GateTop1!.Value)}");
        if (!ValidationReport.Meets(report.Top5, report.GateTop5))
            failures.Add($"top-5 {ValidationReport.Percent(report.Top5)} ({report.Top5Correct}/{report.Images}) is under the gate of {ValidationReport.Percent(report.GateTop5!.Value)}");
        if (failures.Count > 0 || !report.Passed)
            throw new GateFailedException($"{report.Model}: {(failures.Count > 0 ? string.Join("; ", failures) : "the report says the gates were not met")}; the model must not be deployed");
        if (report.GateTop1 is not null || report.GateTop5 is not null) log.WriteLine("gates passed");
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
}
