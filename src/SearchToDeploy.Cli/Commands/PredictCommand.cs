using System.CommandLine;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Deploy.Inference;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d predict</c>: classify image files and folders with an exported model, to CSV or JSON Lines.</summary>
public static class PredictCommand
{
    public static Command Create(CliIo io)
    {
        var model = new Option<string>("--model") { Description = "ONNX model written by s2d export (e.g. models/<name>/model.onnx)", Required = true };
        var input = new Option<string[]>("--input") { Description = "Image files or folders (searched recursively); may be given several times", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string?>("--out") { Description = "File to write (written whole or not at all); default: standard output, with progress on standard error" };
        var format = new Option<string?>("--format") { Description = "csv or jsonl (default: by the --out extension, .jsonl/.json for JSON Lines, else csv)" };
        var top = new Option<int>("--top") { Description = "Classes per image, most probable first (at most the model's classes)", DefaultValueFactory = _ => 5 };
        var batch = new Option<int>("--batch") { Description = "Images per ONNX Runtime run", DefaultValueFactory = _ => 32 };
        var ep = CommonOptions.ExecutionProvider();
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = its default)" };
        var workers = new Option<int>("--workers") { Description = "Image decoding threads", DefaultValueFactory = _ => 2 };
        var cmd = new Command("predict", "Classify image files and folders with an exported ONNX model: per image its top-k labels and probabilities, as CSV or JSON Lines; " +
                                         "images are turned upright by their EXIF orientation and preprocessed as the model's metadata says. Exit code 2 when an image could not be read (its row says why)");
        foreach (var o in new Option[] { model, input, output, format, top, batch, ep, threads, workers }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            string? outPath = r.GetValue(output);
            string fmt = PredictionFile.Resolve(r.GetValue(format), outPath);
            var files = BatchPredictor.FindImages(r.GetValue(input)!);
            var progress = outPath is null ? io.Err : io.Out;
            using var m = new DeployedModel(r.GetValue(model)!, OnnxExecutionProviders.Parse(r.GetValue(ep)!), r.GetValue(threads));
            int k = Math.Min(r.GetValue(top), m.Classes.Count); // a model ranks only its own classes
            var predictions = BatchPredictor.Run(m, files, k, r.GetValue(batch), r.GetValue(workers), progress);
            progress.WriteLine($"predict: {files.Count} images with {m.Path} ({m.Classes.Count} classes, {m.InputSize}x{m.InputSize}, ONNX Runtime {m.Provider.ToString().ToUpperInvariant()})");
            int failed = 0;
            if (outPath is null) failed = PredictionFile.Write(predictions, io.Out, fmt, k);
            else
            {
                AtomicFile.Write(outPath, stream =>
                {
                    using var writer = new StreamWriter(stream, leaveOpen: true);
                    failed = PredictionFile.Write(predictions, writer, fmt, k);
                });
                progress.WriteLine($"predict: wrote {outPath}");
            }
            if (failed == 0) return S2dApp.Success;
            io.Err.WriteLine($"error: {failed} of {files.Count} images could not be classified (their rows say why)");
            return S2dApp.BadInput;
        }));
        return cmd;
    }
}
