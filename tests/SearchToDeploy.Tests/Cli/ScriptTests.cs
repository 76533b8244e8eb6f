namespace SearchToDeploy.Tests.Cli;

/// <summary>
/// The GPU host's scripts, where they can run without a GPU: their argument checks (exit code 2 with a message), the
/// TorchSharp version check before a LibTorchSharp build, and the data slice the check carries.
/// </summary>
public sealed class ScriptTests
{
    private static (int Code, string Output) Script(string name, params string[] args) =>
        ChildProcess.Run("bash", [Path.Combine(TestPaths.RepoRoot, "scripts", name), .. args]);

    [Fact]
    public void Gpu_check_refuses_an_unknown_device()
    {
        var (code, output) = Script("gpu-check.sh", "--device", "tpu");
        Assert.Equal(2, code);
        Assert.Contains("--device tpu: expected cuda, cuda:N or cpu", output);
    }

    [Fact]
    public void Build_libtorchsharp_checks_its_folders_and_the_torchsharp_version_before_building()
    {
        using var dir = new TempDir();
        var (code, output) = Script("build-libtorchsharp.sh", "--torch", dir.Path, "--src", dir.Path, "--out", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("no include/torch and lib/libtorch.so", output);

        // A torch install, TorchSharp 0.106.0's sources and an s2d built with 0.107.0: refused, naming both versions.
        Directory.CreateDirectory(Path.Combine(dir.Path, "torch", "include", "torch"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "torch", "lib"));
        File.WriteAllText(Path.Combine(dir.Path, "torch", "lib", "libtorch.so"), "");
        Directory.CreateDirectory(Path.Combine(dir.Path, "ts", "src", "Native", "LibTorchSharp"));
        File.WriteAllText(Path.Combine(dir.Path, "ts", "src", "Native", "LibTorchSharp", "CMakeLists.txt"), "");
        Directory.CreateDirectory(Path.Combine(dir.Path, "ts", "build"));
        File.WriteAllText(Path.Combine(dir.Path, "ts", "build", "BranchInfo.props"),
            "<Project><PropertyGroup><MajorVersion>0</MajorVersion><MinorVersion>106</MinorVersion><PatchVersion>0</PatchVersion></PropertyGroup></Project>");
        Directory.CreateDirectory(Path.Combine(dir.Path, "app"));
        File.Copy(Path.Combine(AppContext.BaseDirectory, "s2d.deps.json"), Path.Combine(dir.Path, "app", "s2d.deps.json"));
        (code, output) = Script("build-libtorchsharp.sh", "--torch", Path.Combine(dir.Path, "torch"), "--src", Path.Combine(dir.Path, "ts"), "--out", Path.Combine(dir.Path, "app"));
        Assert.Equal(2, code);
        string expected = $"holds TorchSharp 0.106.0 but the s2d in {Path.Combine(dir.Path, "app")} uses TorchSharp {SearchToDeploy.Core.Torch.TorchBackend.TorchSharpVersion}";
        Assert.True(output.Contains(expected, StringComparison.Ordinal), output);
    }

    [Fact]
    public void Stub_noncompiling_gives_functions_that_do_not_compile_a_body_that_raises_an_error()
    {
        // TorchSharp's layout in miniature: its error channel, a good function, two that no longer compile (as the
        // named-tensor functions do against libtorch 2.14), and a caller that shows what a stub does when called.
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, "Utils.h"), "#pragma once\n#include <cstring>\nextern thread_local char *torch_last_err;\n");
        File.WriteAllText(Path.Combine(dir.Path, "THSTensor.cpp"), """
            #include "Utils.h"
            thread_local char *torch_last_err = nullptr;

            int Good(int x)
            {
                return x + 1;
            }

            int* Bad(int x)
            {
                return not_declared(x);
            }

            void BadVoid(const char* s) {
                s.no_member();
            }

            int Gone(gone_type x)
            {
                return 0;
            }
            """);
        File.WriteAllText(Path.Combine(dir.Path, "main.cpp"), """
            #include <cstdio>
            #include "Utils.h"
            int Good(int); int* Bad(int); void BadVoid(const char*);
            int main() { int* p = Bad(1); std::printf("%d %s|", Good(1), p == nullptr ? torch_last_err : "?"); BadVoid("x"); std::printf("%s\n", torch_last_err); }
            """);
        string report = Path.Combine(dir.Path, "stubbed.txt");
        var (code, output) = ChildProcess.Run("python3", [Path.Combine(TestPaths.RepoRoot, "scripts", "stub-noncompiling.py"), "--dir", dir.Path, "--report", report,
            "--note", "TorchSharp's code for it does not compile against libtorch 9.9", "--", "g++", "-std=c++17", "-I", dir.Path]);
        Assert.True(code == 0, output);
        string[] stubbed = File.ReadAllLines(report);
        Assert.Equal(3, stubbed.Length);
        Assert.StartsWith("THSTensor.cpp: Bad: ", stubbed[0]);
        Assert.Contains("not_declared", stubbed[0]);
        Assert.StartsWith("THSTensor.cpp: BadVoid: ", stubbed[1]);
        // A type that is gone from the signature: the function cannot be stubbed, so it is removed (a missing export).
        Assert.StartsWith("THSTensor.cpp: Gone: removed (signature): ", stubbed[2]);
        string rewritten = File.ReadAllText(Path.Combine(dir.Path, "THSTensor.cpp"));
        Assert.Contains("return x + 1;", rewritten);
        Assert.DoesNotContain("gone_type", rewritten);

        string exe = Path.Combine(dir.Path, "stubbed");
        (code, output) = ChildProcess.Run("g++", ["-std=c++17", "-o", exe, Path.Combine(dir.Path, "THSTensor.cpp"), Path.Combine(dir.Path, "main.cpp")]);
        Assert.True(code == 0, output);
        (code, output) = ChildProcess.Run(exe, []);
        Assert.Equal(0, code);
        Assert.Equal("2 Bad: not available in this build: TorchSharp's code for it does not compile against libtorch 9.9|" +
                     "BadVoid: not available in this build: TorchSharp's code for it does not compile against libtorch 9.9", output.Trim());

        // An error outside a function body cannot be stubbed: exit code 1, naming the file and line.
        File.WriteAllText(Path.Combine(dir.Path, "THSTensor.cpp"), "#include \"Utils.h\"\nstruct Node\n{\n    gone_type member;\n};\n");
        (code, output) = ChildProcess.Run("python3", [Path.Combine(TestPaths.RepoRoot, "scripts", "stub-noncompiling.py"), "--dir", dir.Path, "--report", report, "--", "g++", "-std=c++17", "-I", dir.Path]);
        Assert.Equal(1, code);
        Assert.Contains("THSTensor.cpp:4: error outside a function body, cannot stub", output);
    }

    [Fact]
    public void Rehearse_host_libtorch_checks_its_inputs_before_making_a_debian_root()
    {
        using var dir = new TempDir();
        var (code, output) = Script("rehearse-host-libtorch.sh", "--bundle", Path.Combine(dir.Path, "none.tar.xz"), "--data-slice", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("no such file", output);

        // A bundle built without TorchSharp's sources cannot rebuild LibTorchSharp: refused up front.
        string bundle = Path.Combine(dir.Path, "s2d-linux-x64.tar.xz");
        Directory.CreateDirectory(Path.Combine(dir.Path, "s2d"));
        File.WriteAllText(Path.Combine(dir.Path, "s2d", "s2d"), "");
        Assert.Equal(0, ChildProcess.Run("tar", ["-C", dir.Path, "-cJf", bundle, "s2d"]).Code);
        (code, output) = Script("rehearse-host-libtorch.sh", "--bundle", bundle, "--data-slice", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("no torchsharp-src in it", output);
    }

    [Fact]
    public void Prepare_gpu_check_refuses_what_is_not_torchsharp_sources_of_its_version()
    {
        using var dir = new TempDir();
        var (code, output) = Script("prepare-gpu-check.sh", "--torchsharp", dir.Path, "--data-root", TestPaths.DataRoot);
        Assert.Equal(2, code);
        Assert.Contains("neither a checkout (src/Native/LibTorchSharp) nor a git repository", output);

        Directory.CreateDirectory(Path.Combine(dir.Path, "src", "Native", "LibTorchSharp"));
        Directory.CreateDirectory(Path.Combine(dir.Path, "build"));
        File.WriteAllText(Path.Combine(dir.Path, "build", "BranchInfo.props"),
            "<Project><PropertyGroup><MajorVersion>0</MajorVersion><MinorVersion>105</MinorVersion><PatchVersion>1</PatchVersion></PropertyGroup></Project>");
        (code, output) = Script("prepare-gpu-check.sh", "--torchsharp", dir.Path, "--data-root", TestPaths.DataRoot);
        Assert.Equal(2, code);
        Assert.Contains($"holds TorchSharp 0.105.1; s2d uses {SearchToDeploy.Core.Torch.TorchBackend.TorchSharpVersion}", output);
    }

    [Fact]
    public void Data_slice_copies_the_first_images_of_each_imagenette_class()
    {
        using var dir = new TempDir();
        var (code, output) = Script("data-slice.sh", TestPaths.DataRoot, dir.Path, "2", "1");
        Assert.True(code == 0, output);
        string source = SearchToDeploy.Data.Imagenette.Locate(TestPaths.DataRoot); // the 64-px copy, or the official archive's
        string slice = Path.Combine(dir.Path, Path.GetFileName(source));
        Assert.Equal(20, Directory.GetFiles(Path.Combine(slice, "train"), "*", SearchOption.AllDirectories).Length);
        Assert.Equal(10, Directory.GetFiles(Path.Combine(slice, "val"), "*", SearchOption.AllDirectories).Length);
        string cls = Path.GetFileName(Directory.GetDirectories(Path.Combine(source, "val")).Order(StringComparer.Ordinal).First());
        string first = Directory.GetFiles(Path.Combine(source, "val", cls)).Order(StringComparer.Ordinal).First();
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(Path.Combine(slice, "val", cls, Path.GetFileName(first))));
        Assert.Equal(2, Script("data-slice.sh", dir.Path + "/nothing", dir.Path).Code);
    }
}
