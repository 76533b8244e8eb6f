using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using TorchSharp;

namespace SearchToDeploy.Cli.Commands;

/// <summary>
/// <c>s2d doctor</c>: what this s2d runs on. The libtorch in use and where it was loaded from, its version against the one
/// TorchSharp was compiled for, CUDA through TorchSharp, the GPUs the driver reports, ONNX Runtime's providers and whether
/// its CUDA provider loads, and the datasets under the data root. <c>--require-cuda</c> makes a missing CUDA an error
/// (exit code 1), for scripts that must not measure a GPU run on the CPU.
/// </summary>
public static class DoctorCommand
{
    public static Command Create(CliIo io)
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of lines" };
        var requireCuda = new Option<bool>("--require-cuda") { Description = "Exit with code 1 unless TorchSharp can use a CUDA GPU" };
        var root = CommonOptions.DataRoot();
        var cmd = new Command("doctor", "What this s2d runs on: libtorch (which one, from where, which version), CUDA, GPUs, ONNX Runtime's providers, datasets");
        cmd.Options.Add(json);
        cmd.Options.Add(requireCuda);
        cmd.Options.Add(root);
        cmd.SetAction(r => io.Guard(() =>
        {
            var report = Collect(r.GetValue(root));
            if (r.GetValue(json)) io.Out.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            else foreach (var (key, value) in report) io.Out.WriteLine($"{key}: {value}");
            if (r.GetValue(requireCuda) && !report["torch_cuda"].StartsWith("available", StringComparison.Ordinal))
            {
                io.Err.WriteLine($"error: --require-cuda: TorchSharp cannot use CUDA here ({report["torch_cuda"]})");
                return S2dApp.Failure;
            }
            return S2dApp.Success;
        }));
        return cmd;
    }

    /// <summary>The report as ordered key/value pairs (keys are stable: scripts read the JSON form).</summary>
    public static Dictionary<string, string> Collect(string? dataRoot)
    {
        var d = new Dictionary<string, string>
        {
            ["s2d"] = $"{typeof(DoctorCommand).Assembly.GetName().Version?.ToString(3)} (libtorch build: {TorchBackend.BuildKind})",
            ["dotnet"] = $"{RuntimeInformation.FrameworkDescription} on {RuntimeInformation.OSDescription}, {Environment.ProcessorCount} cores",
            ["torchsharp"] = $"{TorchBackend.TorchSharpVersion} ({TorchBackend.NativeBuildReport(AppContext.BaseDirectory)})",
        };
        string? host = Environment.GetEnvironmentVariable(TorchBackend.Variable);
        if (TorchBackend.HostFolderMissing)
        {
            d["libtorch"] = $"not loaded: {TorchBackend.MissingHostMessage}";
            d["torch_cuda"] = "not available (no libtorch)";
        }
        else try
        {
            int threads = torch.get_num_threads(); // the first call loads libtorch
            d["libtorch"] = TorchBackend.HostFolder is { } folder
                ? $"host: {folder} (version {TorchBackend.HostVersion(folder) ?? "unknown"})"
                : $"s2d's own (libtorch {TorchBackend.ExpectedLibTorchVersion})";
            d["libtorch_files"] = string.Join(", ", TorchBackend.LoadedLibraries());
            d["torch_threads"] = threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
            d["torch_cuda"] = torch.cuda.is_available()
                ? $"available, {torch.cuda.device_count()} device(s), cuDNN {(torch.cuda.is_cudnn_available() ? "available" : "not available")}"
                : TorchBackend.BuildKind == "cpu" && host is null ? "not available (this build carries the CPU libtorch)" : "not available (no CUDA libtorch, or no NVIDIA GPU and driver)";
        }
        catch (Exception e)
        {
            d["libtorch"] = $"does not load: {e.GetBaseException().Message.Split('\n')[0]}";
            d["torch_cuda"] = "not available (libtorch does not load)";
        }
        d["gpus"] = NvidiaSmi() ?? "none reported (nvidia-smi not found or no driver)";
        d["onnxruntime"] = $"{OrtEnv.Instance().GetVersionString()}, providers: {string.Join(", ", OrtEnv.Instance().GetAvailableProviders())}";
        d["onnxruntime_cuda"] = SearchToDeploy.Deploy.Inference.OnnxCudaProvider.Status();
        string rootDir = DataRoot.Resolve(dataRoot);
        // Imagenette as s2d reads it: the 64-px copy, else the official archive's folder.
        string imagenette = Path.GetFileName(Imagenette.Locate(rootDir));
        d["data_root"] = $"{rootDir}: " + string.Join(", ", new[] { "cifar-10-batches-bin", imagenette, "nas-bench-201" }
            .Select(n => $"{n} {(Directory.Exists(Path.Combine(rootDir, n)) ? "found" : "missing")}"));
        return d;
    }

    private static string? NvidiaSmi()
    {
        try
        {
            var psi = new ProcessStartInfo("nvidia-smi", "--query-gpu=name,driver_version,memory.total --format=csv,noheader")
            { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi);
            if (p is null) return null;
            // A wedged driver can hang nvidia-smi: when doctor is most needed. 10 s, then it is reported as not answering.
            var text = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(10_000))
            {
                try { p.Kill(); } catch (InvalidOperationException) { }
                return "nvidia-smi did not answer within 10 s (a driver problem?)";
            }
            string output = text.GetAwaiter().GetResult().Trim();
            return p.ExitCode == 0 && output.Length > 0 ? string.Join("; ", output.Split('\n').Select(l => l.Trim())) : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }
}
