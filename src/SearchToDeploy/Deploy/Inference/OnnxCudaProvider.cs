using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace SearchToDeploy.Deploy.Inference;

/// <summary>
/// Whether ONNX Runtime's CUDA provider loads here, and why not in words a person can act on: ORT itself only says
/// "Failed to load shared library" (the missing CUDA library goes to its log), so the reason is taken from the loader.
/// </summary>
public static class OnnxCudaProvider
{
    public const string LibraryName = "libonnxruntime_providers_cuda.so";

    /// <summary>"usable", or "not usable: " and the reason.</summary>
    public static string Status() => WhyNot() is { } reason ? $"not usable: {reason}" : "usable";

    /// <summary>Null where the CUDA provider loads here; else why not.</summary>
    public static string? WhyNot()
    {
        using var options = new SessionOptions();
        try
        {
            Quietly(() => Append(options).Dispose());
            return null;
        }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            return Reason(e);
        }
    }

    /// <summary>
    /// Adds the CUDA provider (device 0) to <paramref name="options"/>; dispose the returned options once the session is
    /// made. cuDNN picks convolution algorithms by its heuristics, not by ORT's default exhaustive search: a server runs
    /// batches of every size up to its maximum, and the search would tune each new size inside a request.
    /// </summary>
    public static IDisposable Append(SessionOptions options)
    {
        var cuda = new OrtCUDAProviderOptions();
        try
        {
            cuda.UpdateOptions(new Dictionary<string, string> { ["device_id"] = "0", ["cudnn_conv_algo_search"] = "HEURISTIC" });
            options.AppendExecutionProvider_CUDA(cuda);
            return cuda;
        }
        catch
        {
            cuda.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="action"/> with ORT's log at fatal only (a failed provider load is otherwise logged as an error).</summary>
    public static void Quietly(Action action)
    {
        var env = OrtEnv.Instance();
        var level = env.EnvLogLevel;
        env.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
        try { action(); }
        finally { env.EnvLogLevel = level; }
    }

    /// <summary>Why appending the CUDA provider failed with <paramref name="e"/>: the library or the CUDA library it lacks, where the loader says.</summary>
    public static string Reason(Exception e)
    {
        string lib = Path.Combine(AppContext.BaseDirectory, LibraryName);
        if (!File.Exists(lib))
            return $"{e.GetType().Name}: {e.Message} (no {LibraryName} beside s2d: it comes with the Microsoft.ML.OnnxRuntime.Gpu package, -p:S2DOrt=gpu)";
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(lib));
        }
        catch (DllNotFoundException d)
        {
            // e.g. "libcublasLt.so.13: cannot open shared object file": CUDA 13 or cuDNN 9 is not on the loader's path.
            return $"{LibraryName} does not load: {Core.NativeLoadErrors.Reason(d)} (it needs an NVIDIA driver, CUDA 13 and cuDNN 9 on the loader's path)";
        }
        return $"{e.GetType().Name}: {e.Message}";
    }
}
