using System.Text.Json;
using SearchToDeploy.Cli;
using SearchToDeploy.Core.Torch;

namespace SearchToDeploy.Tests.Core;

/// <summary>
/// The host-libtorch backend (-p:S2DTorch=host, S2D_LIBTORCH): an s2d without a libtorch of its own runs on a
/// libtorch folder given at run time, and every bad folder is one clear error. The test build carries libtorch, so a
/// copy of s2d without it plays the host build, and the tests' own libtorch plays the host's.
/// </summary>
public sealed class TorchBackendTests
{
    [Fact]
    public void An_s2d_without_libtorch_runs_on_the_folder_S2D_LIBTORCH_names()
    {
        using var app = new TempDir();
        string here = AppContext.BaseDirectory;
        foreach (string f in Directory.EnumerateFiles(here))
        {
            string name = Path.GetFileName(f);
            bool torch = name.StartsWith("libtorch", StringComparison.Ordinal) || name.StartsWith("libc10", StringComparison.Ordinal) ||
                         name.StartsWith("libgomp", StringComparison.Ordinal) || name is "libshm.so";
            bool cudaOrWindows = name.StartsWith("libonnxruntime_providers_", StringComparison.Ordinal) && name != "libonnxruntime_providers_shared.so" ||
                                 name.StartsWith("onnxruntime", StringComparison.Ordinal) && name.EndsWith(".dll", StringComparison.Ordinal);
            if (!torch && !cudaOrWindows) File.Copy(f, Path.Combine(app.Path, name));
        }
        string s2d = Path.Combine(app.Path, "s2d");

        var (code, output) = ChildProcess.Run(s2d, ["doctor", "--json"], env: new Dictionary<string, string> { ["S2D_LIBTORCH"] = here });
        Assert.True(code == 0, output);
        var report = JsonDocument.Parse(output[output.IndexOf('{')..]).RootElement;
        Assert.StartsWith($"host: {here.TrimEnd('/')}", report.GetProperty("libtorch").GetString());
        string files = report.GetProperty("libtorch_files").GetString()!;
        Assert.Contains(Path.Combine(here, "libtorch_cpu.so"), files);
        Assert.Contains(Path.Combine(app.Path, "libLibTorchSharp.so"), files);

        // A search step runs on it (libtorch loaded from the host folder, TorchSharp's native library from s2d's).
        (code, output) = ChildProcess.Run(s2d, ["model", "info", "--genotype", "darts-v2", "--network", "cifar"], env: new Dictionary<string, string> { ["S2D_LIBTORCH"] = here });
        Assert.True(code == 0, output);

        // A folder that is not libtorch's, and a library that does not load: exit code 2 naming the variable and what was expected.
        using var bad = new TempDir();
        (code, output) = ChildProcess.Run(s2d, ["doctor"], env: new Dictionary<string, string> { ["S2D_LIBTORCH"] = bad.Path });
        Assert.Equal(2, code);
        Assert.Contains("S2D_LIBTORCH=", output);
        Assert.Contains("missing libc10.so, libtorch_cpu.so, libtorch.so", output);
        foreach (string name in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" }) File.WriteAllText(Path.Combine(bad.Path, name), "not a library");
        (code, output) = ChildProcess.Run(s2d, ["doctor"], env: new Dictionary<string, string> { ["S2D_LIBTORCH"] = bad.Path });
        Assert.Equal(2, code);
        Assert.Contains("libc10.so does not load", output);

        // Another libtorch version: refused before anything is loaded (TorchSharp's library built for 2.10 loads against
        // Debian's 2.14 and crashes at its first mismatched call), naming both versions and the rebuild.
        using var other = new TempDir();
        string lib = Path.Combine(other.Path, "torch", "lib");
        Directory.CreateDirectory(lib);
        foreach (string name in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" }) File.WriteAllText(Path.Combine(lib, name), "not a library");
        File.WriteAllText(Path.Combine(other.Path, "torch", "version.py"), "__version__ = '2.14.1+debian'\n");
        (code, output) = ChildProcess.Run(s2d, ["doctor"], env: new Dictionary<string, string> { ["S2D_LIBTORCH"] = lib });
        Assert.Equal(2, code);
        Assert.Contains($"compiled against libtorch {TorchBackend.ExpectedLibTorchVersion} and does not load against this libtorch (2.14.1+debian)", output);
        Assert.Contains("scripts/build-libtorchsharp.sh", output);
        Assert.DoesNotContain("libc10.so does not load", output);

        // A library rebuilt against it (build-libtorchsharp.sh records the version beside it) passes the check; here
        // the fake libraries then fail to load, which shows that the version was accepted.
        File.WriteAllText(Path.Combine(app.Path, TorchBackend.BuiltForFile), "2.14.1+debian\n");
        (code, output) = ChildProcess.Run(s2d, ["doctor"], env: new Dictionary<string, string> { ["S2D_LIBTORCH"] = lib });
        Assert.Equal(2, code);
        Assert.Contains("libc10.so does not load", output);
        Assert.Equal("2.14.1+debian", TorchBackend.NativeBuiltFor(app.Path));
        Assert.Equal(TorchBackend.ExpectedLibTorchVersion, TorchBackend.NativeBuiltFor(other.Path));
        File.WriteAllText(Path.Combine(app.Path, TorchBackend.StubbedFile), "THSTensor.cpp: THSTensor_rename: 'Dimname' is not a member of 'at'\n");
        Assert.Equal($"native library compiled against libtorch 2.14.1+debian; 1 of its functions did not compile against it and raise an error when called, listed in {Path.Combine(app.Path, TorchBackend.StubbedFile)}",
                     TorchBackend.NativeBuildReport(app.Path));
        // Custom autograd functions (the depthwise 5x5 kernel's) stay on until THSAutograd.cpp loses a function.
        Assert.True(TorchBackend.CustomAutogradFunctionsIn(app.Path));
        File.AppendAllText(Path.Combine(app.Path, TorchBackend.StubbedFile), "THSAutograd.cpp: THSAutograd_Function_wrapOutputs: no matching function for call to '_wrap_outputs(...)'\n");
        Assert.Equal([("THSTensor.cpp", "THSTensor_rename"), ("THSAutograd.cpp", "THSAutograd_Function_wrapOutputs")], TorchBackend.StubbedFunctions(app.Path));
        Assert.False(TorchBackend.CustomAutogradFunctionsIn(app.Path));
        Assert.True(TorchBackend.CustomAutogradFunctionsIn(other.Path));
    }

    [Theory]
    [InlineData("2.10.0", "2.10.1+cu128", true)]
    [InlineData("2.14.1+debian", "2.14.0", true)]
    [InlineData("2.10.0", "2.11.0+cu130", false)]
    [InlineData("2.10.0", "1.13.0a0+git", false)]
    [InlineData("2.10.0", null, true)]
    [InlineData("unknown", "2.14.1", true)]
    public void Libtorch_versions_match_on_major_and_minor(string builtFor, string? host, bool same) =>
        Assert.Equal(same, TorchBackend.SameMinor(builtFor, host));

    [Fact]
    public void A_build_with_its_own_libtorch_refuses_a_host_folder_and_versions_are_read_from_the_install()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<InputException>(() => TorchBackend.LoadHost(dir.Path, AppContext.BaseDirectory));
        Assert.Contains("carries its own libtorch", e.Message);

        // A PyTorch install's torch/version.py and a LibTorch archive's build-version, beside lib/.
        Directory.CreateDirectory(Path.Combine(dir.Path, "torch", "lib"));
        File.WriteAllText(Path.Combine(dir.Path, "torch", "version.py"), "from typing import Optional\n__version__ = '2.11.0+cu130'\ncuda: Optional[str] = '13.0'\n");
        Assert.Equal("2.11.0+cu130", TorchBackend.HostVersion(Path.Combine(dir.Path, "torch", "lib")));
        Directory.CreateDirectory(Path.Combine(dir.Path, "libtorch", "lib"));
        File.WriteAllText(Path.Combine(dir.Path, "libtorch", "build-version"), "2.10.0+cpu\n");
        Assert.Equal("2.10.0+cpu", TorchBackend.HostVersion(Path.Combine(dir.Path, "libtorch", "lib")));
        Assert.Null(TorchBackend.HostVersion(dir.Path));
    }

    [Fact]
    public void Doctor_reports_the_libtorch_in_use_and_require_cuda_fails_without_a_gpu()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, S2dApp.Run(["doctor", "--json"], output, error));
        var report = JsonDocument.Parse(output.ToString()).RootElement;
        Assert.StartsWith("s2d's own", report.GetProperty("libtorch").GetString());
        Assert.StartsWith(TorchBackend.TorchSharpVersion, report.GetProperty("torchsharp").GetString());
        Assert.Contains("CPUExecutionProvider", report.GetProperty("onnxruntime").GetString());
        // ORT's CUDA provider: usable, or the loader's reason (e.g. the CUDA library it lacks), not ORT's bare "failed to load".
        string ortCuda = report.GetProperty("onnxruntime_cuda").GetString()!;
        Assert.True(ortCuda == "usable" || ortCuda.StartsWith("not usable: ", StringComparison.Ordinal) && ortCuda.Contains("libonnxruntime_providers_cuda.so"), ortCuda);
        if (!TorchSharp.torch.cuda.is_available())
        {
            Assert.Equal(1, S2dApp.Run(["doctor", "--require-cuda"], new StringWriter(), error));
            Assert.Contains("--require-cuda", error.ToString());
        }
    }
}
