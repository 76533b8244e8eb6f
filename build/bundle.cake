// Bundle: a self-contained s2d to carry to a GPU host that has a PyTorch install but no .NET: the .NET runtime
// included, no libtorch (built with -p:S2DTorch=host, it runs on the host's libtorch through S2D_LIBTORCH), ONNX
// Runtime's GPU build without its 280 MB CUDA provider, and the GPU check's scripts. Writes
// artifacts/bundle/s2d-linux-x64.tar.xz. Arguments: --torchsharp-src=<TorchSharp checkout> also packs TorchSharp's
// native sources, from which scripts/build-libtorchsharp.sh builds LibTorchSharp against the host's libtorch.
// --ort-cuda also writes the CUDA provider to artifacts/ort-cuda as xz parts under 60 MiB each, holding only the
// kernels of --cuda-arch (default 90: H100 and H200; "all" keeps every architecture, 176 MB in 3 parts).

Task("Bundle")
    .Does(() =>
{
    var bundle = MakeAbsolute(Directory($"{Parameters.Artifacts}/bundle"));
    var stage = bundle.Combine("s2d");
    DirectoryPath src = null;
    if (HasArgument("torchsharp-src"))
    {
        // Checked before anything is built: sources of another TorchSharp version would only fail on the GPU host.
        src = MakeAbsolute(Directory(Argument<string>("torchsharp-src")));
        if (!DirectoryExists(src.Combine("src/Native/LibTorchSharp")) || !FileExists(src.CombineWithFilePath("build/BranchInfo.props")))
            throw new Exception($"--torchsharp-src={src}: expected a TorchSharp checkout (src/Native/LibTorchSharp, build/BranchInfo.props)");
        var props = System.IO.File.ReadAllText(src.CombineWithFilePath("build/BranchInfo.props").FullPath);
        string Part(string name) => System.Text.RegularExpressions.Regex.Match(props, $"<{name}Version>([^<]*)<").Groups[1].Value;
        string have = $"{Part("Major")}.{Part("Minor")}.{Part("Patch")}";
        string want = System.Text.RegularExpressions.Regex.Match(System.IO.File.ReadAllText("Directory.Packages.props"), "<S2DTorchSharpVersion>([^<]*)<").Groups[1].Value;
        if (have != want)
            throw new Exception($"--torchsharp-src={src} holds TorchSharp {have}; s2d uses {want}: check out TorchSharp {want}'s sources");
    }
    string arch = Argument("cuda-arch", "90");
    if (arch != "all" && !System.Text.RegularExpressions.Regex.IsMatch(arch, "^[0-9]+(,[0-9]+)*$"))
        throw new Exception($"--cuda-arch={arch}: expected SM architectures such as 90 or 80,90, or all");
    CleanDirectory(bundle);
    // A separate artifacts path keeps the host build's restore out of the solution's obj/ folders.
    DotNetPublish("src/SearchToDeploy.Cli/SearchToDeploy.Cli.csproj", new DotNetPublishSettings
    {
        Configuration = Parameters.Configuration,
        Runtime = "linux-x64",
        SelfContained = true,
        OutputDirectory = stage,
        ArgumentCustomization = a => a.Append($"--artifacts-path \"{MakeAbsolute(Directory($"{Parameters.Artifacts}/bundle-build"))}\""),
        MSBuildSettings = new DotNetMSBuildSettings().WithProperty("S2DTorch", "host").WithProperty("S2DOrt", "gpu").WithProperty("SatelliteResourceLanguages", "en")
            .WithProperty("InvariantGlobalization", "true"), // no ICU needed on the host
    });
    var heldBack = bundle.Combine("held-back");
    EnsureDirectoryExists(heldBack);
    foreach (var name in new[] { "libonnxruntime_providers_cuda.so", "libonnxruntime_providers_tensorrt.so" })
        if (FileExists(stage.CombineWithFilePath(name))) MoveFile(stage.CombineWithFilePath(name), heldBack.CombineWithFilePath(name));
    // ONNX Runtime's GPU package copies its Windows libraries whatever the runtime: 220 MB that Linux never loads.
    DeleteFiles(GetFiles($"{stage}/onnxruntime*.dll"));
    // The debugger's and crash dumper's libraries: not needed to run.
    DeleteFiles(GetFiles($"{stage}/libmscordaccore.so").Concat(GetFiles($"{stage}/libmscordbi.so")).Concat(GetFiles($"{stage}/createdump")));
    foreach (var dir in new[] { "scripts", "bench" }) CopyDirectory(dir, stage.Combine(dir));
    if (src != null)
    {
        CopyDirectory(src.Combine("src/Native"), stage.Combine("torchsharp-src/src/Native"));
        CopyFile(src.CombineWithFilePath("build/BranchInfo.props"), stage.Combine("torchsharp-src").CombineWithFilePath("BranchInfo.props"));
    }
    int tar = StartProcess("tar", new ProcessSettings { Arguments = $"-C \"{bundle}\" -cJf \"{bundle}/s2d-linux-x64.tar.xz\" s2d", EnvironmentVariables = new Dictionary<string, string> { ["XZ_OPT"] = "-6 -T0" } });
    if (tar != 0) throw new Exception($"tar failed (exit code {tar})");
    Information($"{bundle}/s2d-linux-x64.tar.xz: {new System.IO.FileInfo($"{bundle}/s2d-linux-x64.tar.xz").Length / 1048576.0:0.0} MiB");
    if (HasArgument("ort-cuda"))
    {
        var ortCuda = MakeAbsolute(Directory($"{Parameters.Artifacts}/ort-cuda"));
        CleanDirectory(ortCuda);
        var provider = heldBack.CombineWithFilePath("libonnxruntime_providers_cuda.so");
        if (arch != "all")
        {
            var pruned = heldBack.CombineWithFilePath($"providers_cuda.sm_{arch.Replace(',', '_')}.so");
            string keep = string.Join(" ", arch.Split(',').Select(a => $"--keep {a}"));
            int pr = StartProcess("python3", new ProcessSettings { Arguments = $"scripts/prune-cuda-archs.py \"{provider}\" \"{pruned}\" {keep}" });
            if (pr != 0) throw new Exception($"scripts/prune-cuda-archs.py failed (exit code {pr})");
            provider = pruned;
        }
        int xz = StartProcess("bash", new ProcessSettings { Arguments = $"-o pipefail -c \"xz -6 -T0 -c '{provider}' | split -b 60M -d - '{ortCuda}/ort-cuda.xz.part'\"" });
        if (xz != 0 || !GetFiles($"{ortCuda}/ort-cuda.xz.part*").Any()) throw new Exception($"xz/split failed (exit code {xz}); no parts in {ortCuda}");
        foreach (var part in GetFiles($"{ortCuda}/ort-cuda.xz.part*")) Information($"{part}: {new System.IO.FileInfo(part.FullPath).Length / 1048576.0:0.0} MiB");
    }
    foreach (var dir in new[] { stage, heldBack }) DeleteDirectory(dir, new DeleteDirectorySettings { Recursive = true });
});
