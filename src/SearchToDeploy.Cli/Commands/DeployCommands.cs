using System.CommandLine;
using System.Text.Json;
using SearchToDeploy.Cli.Serving;
using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Export;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Deploy.Validation;
using SearchToDeploy.Runs.Training;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d export</c>, <c>s2d validate</c> and <c>s2d serve</c>: from a training run to a checked, gated, served ONNX model.</summary>
public static class DeployCommands
{
    public static Command Export(CliIo io)
    {
        var run = new Option<string>("--run") { Description = "Training run folder (s2d train --out) or a checkpoint file", Required = true };
        var output = new Option<string>("--out") { Description = "File to write (model.onnx, or model.safetensors with --format safetensors)", Required = true };
        var format = new Option<string>("--format") { Description = "onnx (the deployable model, parity-checked) or safetensors (the weights under DARTS's PyTorch names, for PyTorch users)", DefaultValueFactory = _ => "onnx" };
        format.AcceptOnlyFromAmong("onnx", "safetensors");
        var keepBn = new Option<bool>("--keep-bn") { Description = "Keep BatchNormalization nodes instead of folding them into the convolutions" };
        var images = new Option<int>("--parity-images") { Description = "Real images of the training dataset's evaluation split in the parity check", DefaultValueFactory = _ => 64 };
        var root = CommonOptions.DataRoot();
        var data = CommonOptions.DataPath();
        var cmd = new Command("export", "Export a trained network to ONNX (opset 17) with its metadata; fails, writing nothing, if ONNX Runtime's logits differ from TorchSharp's by more than 1e-4. --format safetensors writes the weights for PyTorch instead");
        foreach (var o in new Option[] { run, output, format, keepBn, images, root, data }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            string runPath = r.GetValue(run)!;
            if (r.GetValue(format) == "safetensors")
                foreach (var onnxOnly in new Option[] { keepBn, images, root, data })
                    if (CommonOptions.Given(r, onnxOnly))
                        throw new InputException($"{onnxOnly.Name}: applies to --format onnx (the graph and its parity check); safetensors holds the trained weights as they are");
            using var model = TrainedModel.Load(runPath);
            if (r.GetValue(format) == "safetensors")
            {
                SafetensorsExporter.Export(model, runPath, r.GetValue(output)!, io.Out);
                return S2dApp.Success;
            }
            var h = model.Header;
            string? path = r.GetValue(data) ?? JsonSerializer.Deserialize<TrainOptions>(h.Options, TrainHeader.Json)?.DataPath;
            IImageDataset? parityImages = null;
            if (r.GetValue(images) > 0)
            {
                try { parityImages = DatasetRef.Resolve(h.Dataset, DataRoot.Resolve(r.GetValue(root)), path).Open(Split.Test); }
                catch (InputException e) { io.Out.WriteLine($"warning: no real images for the parity check ({e.Message}); random inputs only"); }
            }
            ModelExporter.Export(model, runPath, r.GetValue(output)!, io.Out, r.GetValue(keepBn), parityImages, r.GetValue(images));
            return S2dApp.Success;
        }));
        return cmd;
    }

    public static Command Validate(CliIo io)
    {
        var model = new Option<string>("--model") { Description = "ONNX model written by s2d export", Required = true };
        var dataset = CommonOptions.Dataset();
        var root = CommonOptions.DataRoot();
        var data = CommonOptions.DataPath();
        var coarse = CommonOptions.CoarseLabels();
        var ep = CommonOptions.ExecutionProvider();
        var batch = new Option<int>("--batch") { Description = "Batch size", DefaultValueFactory = _ => 64 };
        var maxImages = new Option<int>("--max-images") { Description = "Validate on a seeded subset of N images, each class in proportion (0 = all)" };
        var gate1 = new Option<double?>("--gate-top1") { Description = "Minimum top-1 (%); under it: exit code 3" };
        var gate5 = new Option<double?>("--gate-top5") { Description = "Minimum top-5 (%); under it: exit code 3" };
        var report = new Option<string?>("--report") { Description = "JSON report path (default: validation.json beside the model; required for a packaged model, whose own report it would replace)" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = its default)" };
        var workers = new Option<int>("--workers") { Description = "Image loading threads", DefaultValueFactory = _ => 2 };
        var junit = new Option<string?>("--junit") { Description = "Also write the gates as JUnit XML (one test case per gate) for a CI system's test report" };
        var cmd = new Command("validate", "Top-1/top-5, per-class accuracy, images/s and latency of an ONNX model in ONNX Runtime on a dataset's evaluation split, with accuracy gates (exit code 3 when under a gate)");
        foreach (var o in new Option[] { model, dataset, root, data, coarse, ep, batch, maxImages, gate1, gate5, report, threads, workers, junit }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            // An earlier run's gate results must not outlive this one: a CI step that reads them after a failure would pass.
            if (r.GetValue(junit) is { } junitPath) Core.Io.AtomicFile.TryDelete(junitPath);
            // A package's validation.json is its own record (what it was packaged under): another validation goes elsewhere.
            string modelDir = Path.GetDirectoryName(Path.GetFullPath(r.GetValue(model)!))!;
            if (r.GetValue(report) is null && Runs.RunFolder.KindOf(modelDir) == "package")
                throw new InputException($"--report: {modelDir} is a packaged model, whose {ValidationReport.FileName} records the validation it was packaged " +
                                         "with; pass --report <file> to write this one elsewhere");
            var ds = CommonOptions.ResolveDataset(r, dataset, root, data, coarse);
            using var m = new DeployedModel(r.GetValue(model)!, OnnxExecutionProviders.Parse(r.GetValue(ep)!), r.GetValue(threads));
            var result = Validator.Run(m, ds.Open(Split.Test), $"{ds.Name} ({ds.Location})", r.GetValue(batch), r.GetValue(maxImages),
                r.GetValue(gate1), r.GetValue(gate5), io.Out, r.GetValue(workers));
            string reportPath = r.GetValue(report) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(m.Path))!, ValidationReport.FileName);
            Validator.WriteAndGate(result, reportPath, io.Out, r.GetValue(junit));
            return S2dApp.Success;
        }));
        return cmd;
    }

    public static Command Serve(CliIo io)
    {
        var model = new Option<string>("--model") { Description = "ONNX model written by s2d export (e.g. models/<name>/model.onnx)", Required = true };
        var urls = new Option<string>("--urls") { Description = "Addresses to listen on", DefaultValueFactory = _ => "http://127.0.0.1:5000" };
        var ep = CommonOptions.ExecutionProvider();
        var maxBytes = new Option<long>("--max-bytes") { Description = "Largest accepted request body", DefaultValueFactory = _ => 10L * 1024 * 1024 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = its default)" };
        var slots = new Option<int>("--decode-slots") { Description = $"Images over {ServerOptions.LargePixels / 1_000_000} megapixels decoded at once (memory bound); others wait, then get 503", DefaultValueFactory = _ => 2 };
        var maxBatch = new Option<int>("--max-batch") { Description = $"Dynamic batching: at most this many images per ONNX Runtime run (1 = no batching, each request runs alone; 0 = {BatchSettings.GpuBatch} on CUDA, 1 on the CPU)" };
        var maxDelay = new Option<double>("--max-delay-ms") { Description = "Dynamic batching: how long the first request of a batch waits for others", DefaultValueFactory = _ => 2 };
        var queue = new Option<int>("--queue") { Description = "Dynamic batching: images queued at most; beyond, requests get 503 with Retry-After", DefaultValueFactory = _ => 512 };
        var name = new Option<string?>("--name") { Description = "The model's name in /v2/models/{name} (default: its package folder, or the file name)" };
        var noLog = new Option<bool>("--no-access-log") { Description = "No JSON line per request on the output" };
        var arena = new Option<bool>("--memory-arena") { Description = "Keep ONNX Runtime's CPU memory arena: allocation a little cheaper, but memory stays at the largest batch's size after a burst" };
        var cmd = new Command("serve", "Serve an ONNX model over HTTP: POST /v1/classify (JPEG/PNG bytes or a multipart upload), the Open Inference Protocol's /v2 " +
                                       "routes, GET /v1/model, /healthz, /metrics (Prometheus), /openapi.json, and an upload page at /");
        foreach (var o in new Option[] { model, urls, ep, maxBytes, threads, slots, maxBatch, maxDelay, queue, name, noLog, arena }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            var options = new ServerOptions(r.GetValue(model)!, r.GetValue(urls)!, r.GetValue(maxBytes), Provider: OnnxExecutionProviders.Parse(r.GetValue(ep)!), Threads: r.GetValue(threads))
            {
                LargeDecodes = r.GetValue(slots),
                Batching = new BatchSettings(r.GetValue(maxBatch), TimeSpan.FromMilliseconds(r.GetValue(maxDelay)), r.GetValue(queue)),
                Name = r.GetValue(name), AccessLog = !r.GetValue(noLog), MemoryArena = r.GetValue(arena),
            };
            options.Validate();
            var load = System.Diagnostics.Stopwatch.StartNew();
            using var m = new DeployedModel(options.ModelPath, options.Provider, options.Threads, memoryArena: options.MemoryArena);
            var app = ModelServer.Build(options, m, io.Out, load.Elapsed.TotalSeconds);
            try { app.Run(); }
            catch (IOException e) when (e.Message.StartsWith("Failed to bind", StringComparison.Ordinal))
            {
                throw new InputException($"--urls {options.Urls}: {e.Message} (another process listens there; pick another port)");
            }
            return S2dApp.Success;
        }));
        return cmd;
    }
}
