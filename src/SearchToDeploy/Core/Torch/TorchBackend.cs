using System.Reflection;
using System.Runtime.InteropServices;

namespace SearchToDeploy.Core.Torch;

/// <summary>
/// Which libtorch s2d runs on. A build with <c>-p:S2DTorch=cpu</c> (the default) or <c>cuda</c> carries its own libtorch
/// from NuGet; a build with <c>-p:S2DTorch=host</c> carries only TorchSharp, and libtorch comes from the folder that
/// <c>$S2D_LIBTORCH</c> names: a PyTorch install's <c>torch/lib</c> (with its CUDA libraries) or a LibTorch archive's
/// <c>lib</c>. <see cref="LoadHost"/> loads that folder's libraries by full path before TorchSharp's first call, then
/// TorchSharp's <c>libLibTorchSharp.so</c>, so that TorchSharp's own search finds them already loaded. TorchSharp's native
/// library is compiled against one libtorch version; against another it fails to load (a missing C++ symbol) or, worse,
/// loads and crashes at its first mismatched call. So the host's version (major.minor) is compared with the one the
/// library was compiled for before anything is loaded, and a mismatch is reported with the way out
/// (scripts/build-libtorchsharp.sh, which records the version it built against in <see cref="BuiltForFile"/>).
/// </summary>
public static class TorchBackend
{
    public const string Variable = "S2D_LIBTORCH";

    /// <summary>Beside a rebuilt libLibTorchSharp.so: the libtorch version it was compiled against (scripts/build-libtorchsharp.sh).</summary>
    public const string BuiltForFile = "libLibTorchSharp.so.built-for";

    /// <summary>Beside a rebuilt libLibTorchSharp.so: the functions that did not compile against its libtorch, stubbed to raise an error.</summary>
    public const string StubbedFile = "libLibTorchSharp.so.stubbed";

    /// <summary>The libraries preloaded from the host folder, in dependency order; the CUDA ones only where present.</summary>
    private static readonly (string File, bool Required)[] HostLibraries =
        [("libc10.so", true), ("libtorch_cpu.so", true), ("libc10_cuda.so", false), ("libtorch_cuda.so", false), ("libtorch.so", true)];

    private static readonly object Gate = new();
    private static string? loadedFrom;

    /// <summary>cpu, cuda or host: the libtorch this s2d was built with (-p:S2DTorch).</summary>
    public static string BuildKind => Metadata("S2DTorch") ?? "cpu";

    /// <summary>The TorchSharp version, and the libtorch version its native library was compiled against.</summary>
    public static string TorchSharpVersion => Metadata("TorchSharpVersion") ?? "unknown";
    public static string ExpectedLibTorchVersion => Metadata("LibTorchVersion") ?? "unknown";

    /// <summary>The host folder libtorch was loaded from, or null (s2d's own libtorch, or not loaded yet).</summary>
    public static string? HostFolder => loadedFrom;

    /// <summary>Loads the host libtorch that <c>$S2D_LIBTORCH</c> names, once; a no-op where the variable is unset.</summary>
    public static void LoadFromEnvironment()
    {
        string? dir = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(dir)) LoadHost(dir, AppContext.BaseDirectory);
    }

    /// <summary>
    /// Loads libtorch from <paramref name="dir"/> and TorchSharp's native library from <paramref name="appDir"/>.
    /// Bad folders and version mismatches are <see cref="InputException"/>s that say what was expected.
    /// </summary>
    public static void LoadHost(string dir, string appDir)
    {
        lock (Gate)
        {
            string full = Path.GetFullPath(dir);
            if (loadedFrom is not null)
            {
                if (loadedFrom != full) throw new InputException($"{Variable}={dir}: libtorch is already loaded from {loadedFrom}");
                return;
            }
            if (File.Exists(Path.Combine(appDir, "libtorch_cpu.so")))
                throw new InputException($"{Variable}={dir}: this s2d carries its own libtorch ({Path.Combine(appDir, "libtorch_cpu.so")}); " +
                                         "unset the variable, or use a build made with -p:S2DTorch=host (dotnet cake --target=Bundle)");
            if (!Directory.Exists(full))
                throw new InputException($"{Variable}={dir}: no such folder; expected libtorch's lib folder (a PyTorch install's torch/lib, " +
                                         "e.g. $(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib)");
            var missing = HostLibraries.Where(l => l.Required && !File.Exists(Path.Combine(full, l.File))).Select(l => l.File).ToList();
            if (missing.Count > 0)
                throw new InputException($"{Variable}={dir}: expected libtorch's lib folder holding {string.Join(", ", HostLibraries.Where(l => l.Required).Select(l => l.File))}; " +
                                         $"missing {string.Join(", ", missing)}");
            string? hostVersion = HostVersion(full);
            string found = hostVersion ?? "an unknown version";
            string builtFor = NativeBuiltFor(appDir);
            string sharp = Path.Combine(appDir, "libLibTorchSharp.so");
            string rebuild = $"Either point {Variable} at a libtorch {builtFor}, or compile libLibTorchSharp.so against this one: " +
                             $"scripts/build-libtorchsharp.sh --torch <its install folder> --src <TorchSharp {TorchSharpVersion} sources> --out {appDir}";
            if (!SameMinor(builtFor, hostVersion))
                throw new InputException(
                    $"{Variable}={dir}: TorchSharp {TorchSharpVersion}'s native library ({sharp}) was compiled against libtorch {builtFor} " +
                    $"and does not load against this libtorch ({found}): a library compiled for another libtorch version crashes where it loads, so s2d does not load it. {rebuild}");
            foreach (var (file, required) in HostLibraries)
            {
                string path = Path.Combine(full, file);
                if (!required && !File.Exists(path)) continue;
                try { NativeLibrary.Load(path); }
                catch (DllNotFoundException e)
                {
                    throw new InputException($"{Variable}={dir}: {file} does not load: {NativeLoadErrors.Reason(e)}" +
                                             (file.Contains("cuda", StringComparison.Ordinal)
                                                 ? " (the CUDA libraries it needs are not found: a pip install keeps them in site-packages/nvidia/*/lib; add those to LD_LIBRARY_PATH, or check the NVIDIA driver)"
                                                 : ""));
                }
            }
            if (!File.Exists(sharp)) throw new InputException($"{sharp}: TorchSharp's native library is missing from this s2d");
            try { NativeLibrary.Load(sharp); }
            catch (DllNotFoundException e)
            {
                throw new InputException(
                    $"{Variable}={dir}: TorchSharp {TorchSharpVersion}'s native library ({sharp}) was compiled against libtorch {builtFor} " +
                    $"and does not load against this libtorch ({found}): {NativeLoadErrors.Reason(e)}. {rebuild}");
            }
            loadedFrom = full;
        }
    }

    /// <summary>
    /// In a host build whose libtorch was not loaded (no <c>$S2D_LIBTORCH</c>), TorchSharp's failure to find one, told as
    /// what to set; null for any other error.
    /// </summary>
    public static string? MissingHostLibTorch(Exception e)
    {
        if (BuildKind != "host" || loadedFrom is not null) return null;
        return e.GetBaseException() is NotSupportedException or DllNotFoundException or TypeInitializationException ? MissingHostMessage : null;
    }

    /// <summary>Whether this is a host build run without <c>$S2D_LIBTORCH</c>: it has no libtorch to load.</summary>
    public static bool HostFolderMissing => BuildKind == "host" && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable));

    public static string MissingHostMessage =>
        $"this s2d was built for a host libtorch (-p:S2DTorch=host) and {Variable} is not set: set it to libtorch's lib folder, " +
        "e.g. export S2D_LIBTORCH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib";

    /// <summary>
    /// The version of the libtorch in <paramref name="libDir"/> as its install records it: a PyTorch install's
    /// torch/version.py (<c>__version__ = '2.11.0+cu130'</c>) or a LibTorch archive's build-version; null where neither is found.
    /// </summary>
    public static string? HostVersion(string libDir)
    {
        string parent = Path.GetDirectoryName(Path.GetFullPath(libDir).TrimEnd('/')) ?? "";
        string py = Path.Combine(parent, "version.py");
        if (File.Exists(py))
            foreach (string line in File.ReadLines(py))
                if (line.StartsWith("__version__", StringComparison.Ordinal) && line.Split('=', 2) is [_, var v])
                    return v.Trim().Trim('\'', '"');
        string build = Path.Combine(parent, "build-version");
        return File.Exists(build) ? File.ReadAllText(build).Trim() : null;
    }

    /// <summary>
    /// The libtorch version the native library in <paramref name="appDir"/> was compiled against: the one recorded beside
    /// a rebuilt library (<see cref="BuiltForFile"/>), else the one TorchSharp's package was compiled against.
    /// </summary>
    public static string NativeBuiltFor(string appDir)
    {
        string stamp = Path.Combine(appDir, BuiltForFile);
        string recorded = File.Exists(stamp) ? File.ReadAllText(stamp).Trim() : "";
        return recorded.Length > 0 ? recorded : ExpectedLibTorchVersion;
    }

    /// <summary>
    /// The native library's build as the doctor reports it: the libtorch version it was compiled against and, for a rebuilt
    /// one, how many of TorchSharp's functions did not compile against that libtorch and raise an error instead.
    /// </summary>
    public static string NativeBuildReport(string appDir)
    {
        string report = $"native library compiled against libtorch {NativeBuiltFor(appDir)}";
        int n = StubbedFunctions(appDir).Count;
        return n == 0 ? report : $"{report}; {n} of its functions did not compile against it and raise an error when called, listed in {Path.Combine(appDir, StubbedFile)}";
    }

    /// <summary>The (source file, function) pairs a rebuild stubbed (<see cref="StubbedFile"/>: "file: function: first error" lines).</summary>
    public static IReadOnlyList<(string File, string Function)> StubbedFunctions(string appDir)
    {
        string path = Path.Combine(appDir, StubbedFile);
        if (!File.Exists(path)) return [];
        return [.. File.ReadLines(path).Select(l => l.Split(": ", 3)).Where(p => p.Length >= 2).Select(p => (p[0], p[1]))];
    }

    /// <summary>
    /// Whether TorchSharp's custom autograd functions (autograd.SingleTensorFunction) work with the native library in
    /// <paramref name="appDir"/>: not where a rebuild stubbed any of THSAutograd.cpp (against libtorch 2.14 their node
    /// type changed). Code with a custom function takes libtorch's own kernels then.
    /// </summary>
    public static bool CustomAutogradFunctionsIn(string appDir) => !StubbedFunctions(appDir).Any(f => f.File == "THSAutograd.cpp");

    /// <summary><see cref="CustomAutogradFunctionsIn"/> for this process's native library.</summary>
    public static bool CustomAutogradFunctions => customAutograd.Value;

    private static readonly Lazy<bool> customAutograd = new(() => CustomAutogradFunctionsIn(AppContext.BaseDirectory));

    /// <summary>
    /// Whether two libtorch versions share major.minor (patch releases keep the C++ ABI: '2.11.0+cu130' and '2.11.1' do);
    /// true where either is unknown, since then nothing can be told.
    /// </summary>
    public static bool SameMinor(string? a, string? b)
    {
        static string? MajorMinor(string? v) =>
            v?.Split('+')[0].Split('.') is [var major, var minor, ..] && int.TryParse(major, out _) && int.TryParse(minor, out _) ? $"{major}.{minor}" : null;
        string? x = MajorMinor(a), y = MajorMinor(b);
        return x is null || y is null || x == y;
    }

    /// <summary>The file each loaded libtorch library was mapped from (/proc/self/maps), to show which libtorch runs.</summary>
    public static IReadOnlyList<string> LoadedLibraries()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return [];
        return [.. File.ReadLines(maps).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(p => p.Length >= 6)
            .Select(p => string.Join(' ', p[5..])).Where(p => Path.GetFileName(p) is var f && (f.StartsWith("libtorch", StringComparison.Ordinal) ||
                f.StartsWith("libc10", StringComparison.Ordinal) || f.StartsWith("libLibTorchSharp", StringComparison.Ordinal)))
            .Distinct()];
    }

    private static string? Metadata(string key) =>
        typeof(TorchBackend).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value;
}
