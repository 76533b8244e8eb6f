using SearchToDeploy.Cli;

namespace SearchToDeploy.Tests.Cli;

/// <summary>The s2d program in-process: output, and exit codes 0 / 1 / 2.</summary>
public sealed class CliTests
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = S2dApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    /// <summary>
    /// Runs <paramref name="command"/> (words split at spaces) in a scratch working directory and checks that it is bad
    /// input (exit code 2) with <paramref name="message"/>, and that nothing was written: its relative paths (r, s,
    /// m.onnx, runs/) must never be created, here or anywhere.
    /// </summary>
    internal static void AssertBadInputWritingNothing(string command, string message)
    {
        using var dir = new TempDir();
        using (dir.AsWorkingDirectory())
        {
            var (code, _, err) = Run(command.Split(' '));
            Assert.Equal(2, code);
            Assert.Contains(message, err);
        }
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void Data_info_prints_split_sizes_and_class_counts()
    {
        var (code, output, _) = Run("data", "info", "--dataset", "cifar10", "--data-root", TestPaths.DataRoot);
        Assert.Equal(0, code);
        Assert.Contains("train: 50000 images, 10 classes, 5000-5000 images per class", output);
        Assert.Contains("test: 10000 images, 10 classes, 1000-1000 images per class", output);
        Assert.Contains("airplane", output);
    }

    [Fact]
    public void Data_verify_checks_the_official_cifar10_checksums()
    {
        var (code, output, err) = Run("data", "verify", "--dataset", "cifar10", "--data-root", TestPaths.DataRoot);
        Assert.True(code == 0, err);
        Assert.Contains("test_batch.bin: SHA-256 matches the official file", output);
        Assert.Contains("cifar10: verified", output);
    }

    [Fact]
    public void Data_verify_reports_an_undecodable_image_with_exit_code_2()
    {
        using var dir = new TempDir();
        RealFormats.WriteImageFolder(dir.Path, ["a", "b"], 2);
        File.WriteAllBytes(dir["b/bad.png"], [0x89, 0x50, 0x4E, 0x47, 0, 0]);
        var (code, _, err) = Run("data", "verify", "--dataset", "imagefolder", "--data", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains("bad.png: cannot decode image", err);
    }

    [Fact]
    public void A_validation_only_imagenet_folder_can_be_inspected_and_verified()
    {
        string sample = Path.Combine(TestPaths.DataRoot, "imagenet-sample"); // val/ only
        var info = Run("data", "info", "--dataset", "imagenet", "--data", sample);
        Assert.True(info.Code == 0, info.Err);
        Assert.Contains("train: none", info.Out);
        Assert.Contains("test: 1000 images, 1000 classes", info.Out);
        var verify = Run("data", "verify", "--dataset", "imagenet", "--data", sample);
        Assert.True(verify.Code == 0, verify.Err);
        Assert.Contains("test: all 1000 images decode", verify.Out);
    }

    [Fact]
    public void Bad_input_gives_exit_code_2_with_a_message_naming_it()
    {
        using var dir = new TempDir();
        var missing = Run("data", "info", "--dataset", "cifar10", "--data-root", dir.Path);
        Assert.Equal(2, missing.Code);
        Assert.Contains("cifar-10-batches-bin: folder not found", missing.Err);

        var unknown = Run("data", "info", "--dataset", "mnist");
        Assert.Equal(2, unknown.Code);
        Assert.Contains("--dataset 'mnist': unknown dataset", unknown.Err);

        var usage = Run("data", "info");
        Assert.Equal(2, usage.Code);
        Assert.Contains("--dataset", usage.Err);
        Assert.Equal(2, Run("no-such-command").Code);
    }

    [Fact]
    public void Data_root_comes_from_the_option_then_the_environment_then_the_data_folder()
    {
        string? saved = Environment.GetEnvironmentVariable("S2D_DATA_ROOT");
        try
        {
            Environment.SetEnvironmentVariable("S2D_DATA_ROOT", "/tmp/from-env");
            Assert.Equal("/tmp/from-opt", SearchToDeploy.Data.DataRoot.Resolve("/tmp/from-opt"));
            Assert.Equal("/tmp/from-env", SearchToDeploy.Data.DataRoot.Resolve(null));
            Environment.SetEnvironmentVariable("S2D_DATA_ROOT", null);
            Assert.Equal(Path.GetFullPath("data"), SearchToDeploy.Data.DataRoot.Resolve(null));
        }
        finally
        {
            Environment.SetEnvironmentVariable("S2D_DATA_ROOT", saved);
        }
    }

    [Fact]
    public void Every_command_has_help()
    {
        // Walk the real command tree by asking for help at each level.
        var queue = new Queue<string[]>([[]]);
        int seen = 0;
        while (queue.Count > 0)
        {
            var path = queue.Dequeue();
            var (code, output, _) = Run([.. path, "--help"]);
            Assert.Equal(0, code);
            Assert.Contains("Usage:", output);
            seen++;
            bool inCommands = false;
            foreach (var line in output.Split('\n'))
            {
                if (line.StartsWith("Commands:", StringComparison.Ordinal)) { inCommands = true; continue; }
                if (inCommands && line.StartsWith("  ", StringComparison.Ordinal) && line.Trim().Length > 0)
                    queue.Enqueue([.. path, line.Trim().Split(' ')[0]]);
                else if (inCommands && line.Trim().Length == 0) inCommands = false;
            }
        }
        Assert.True(seen >= 6, $"only {seen} commands found");
    }

    [Fact]
    public void Device_auto_runs_on_the_cpu_here_and_cuda_or_a_misspelling_is_refused_with_exit_code_2()
    {
        Assert.Equal(TorchSharp.DeviceType.CPU, SearchToDeploy.Core.Torch.TorchDevices.Resolve("auto").type);
        Assert.Equal(TorchSharp.DeviceType.CPU, SearchToDeploy.Core.Torch.TorchDevices.Resolve(" CPU ").type);
        using var dir = new TempDir();
        const string cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
        foreach (var (device, message) in new[] { ("cuda", "--device cuda: TorchSharp cannot use CUDA here"), ("gpu", "--device 'gpu': expected auto, cpu, cuda or cuda:N"), ("cuda:-1", "expected auto, cpu") })
        {
            var search = Run("search", "--space", "nas-bench-201", "--method", "rf-pcdarts", "--preset", "smoke", "--data-root", TestPaths.DataRoot,
                             "--device", device, "--out", dir["s"], "--force");
            Assert.Equal(2, search.Code);
            Assert.Contains(message, search.Err);
            Assert.False(File.Exists(dir["s/checkpoint.s2d"]));
            var train = Run("train", "--genotype", cell, "--dataset", "cifar10", "--preset", "smoke", "--data-root", TestPaths.DataRoot,
                            "--device", device, "--out", dir["t"], "--force");
            Assert.Equal(2, train.Code);
            Assert.Contains(message, train.Err);
        }
        // The device is resolved before the run folder is prepared: --force on a bad device leaves an earlier run as it was.
        Directory.CreateDirectory(dir["kept"]);
        File.WriteAllText(dir["kept/checkpoint.s2d"], "an earlier run");
        var refused = Run("search", "--space", "nas-bench-201", "--method", "rf-pcdarts", "--preset", "smoke", "--data-root", TestPaths.DataRoot,
                          "--device", "cuda", "--out", dir["kept"], "--force");
        Assert.Equal(2, refused.Code);
        Assert.Equal(["checkpoint.s2d"], Directory.GetFileSystemEntries(dir["kept"]).Select(Path.GetFileName));
        Assert.Equal("an earlier run", File.ReadAllText(dir["kept/checkpoint.s2d"]));
    }

    [Fact]
    public void Resume_alone_reads_the_run_settings_and_a_changed_setting_is_refused_by_name()
    {
        using var dir = new TempDir();
        // Not the default space and method: resuming without them must not take the defaults for choices.
        var search = Run("search", "--space", "darts", "--method", "pc-darts", "--preset", "smoke", "--epochs", "1", "--max-images", "64", "--valid-images", "64", "--seed", "7",
                         "--lr", "0.05", "--data-root", TestPaths.DataRoot, "--out", dir["s"]);
        Assert.True(search.Code == 0, search.Err);
        var again = Run("search", "--out", dir["s"], "--resume", "--threads", "1", "--data-root", TestPaths.DataRoot);
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("(1/1 epochs done)", again.Out);
        var lr = Run("search", "--out", dir["s"], "--resume", "--lr", "0.5", "--data-root", TestPaths.DataRoot);
        Assert.Equal(2, lr.Code);
        Assert.Contains("LearningRate: 0.05 -> 0.5", lr.Err);
        var method = Run("search", "--out", dir["s"], "--resume", "--method", "darts", "--data-root", TestPaths.DataRoot);
        Assert.Equal(2, method.Code);
        Assert.Contains("--method darts: the run was started with --method pc-darts", method.Err);

        const string cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
        var train = Run("train", "--genotype", cell, "--preset", "smoke", "--epochs", "2", "--stop-after", "1", "--seed", "3",
                        "--data-root", TestPaths.DataRoot, "--out", dir["t"]);
        Assert.True(train.Code == 0, train.Err);
        var rest = Run("train", "--out", dir["t"], "--resume", "--data-root", TestPaths.DataRoot);
        Assert.True(rest.Code == 0, rest.Err);
        Assert.Contains("after epoch 0 (1/2 epochs done)", rest.Out);
        Assert.Contains("epoch 1:", rest.Out);
        var seed = Run("train", "--out", dir["t"], "--resume", "--seed", "4", "--data-root", TestPaths.DataRoot);
        Assert.Equal(2, seed.Code);
        Assert.Contains("Seed: 3 -> 4", seed.Err);
        var other = Run("train", "--genotype", cell.Replace("skip_connect", "avg_pool_3x3"), "--out", dir["t"], "--resume", "--data-root", TestPaths.DataRoot);
        Assert.Equal(2, other.Code);
        Assert.Contains("not |nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|avg_pool_3x3~0|", other.Err);
        Assert.Equal(2, Run("train", "--out", dir["u"], "--data-root", TestPaths.DataRoot).Code);
    }

    [Fact]
    public void Resume_with_a_settings_file_applies_its_runtime_settings_and_refuses_its_other_changes()
    {
        // As an MPI stage's ranks resume: the settings file and --resume, nothing else on the command line.
        using var dir = new TempDir();
        const string cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
        File.WriteAllText(dir["t.json"], $$"""{"genotype": "{{cell}}", "preset": "smoke", "epochs": 3, "stop-after": 1, "seed": 3}""");
        var first = Run("train", "--config", dir["t.json"], "--data-root", TestPaths.DataRoot, "--out", dir["t"]);
        Assert.True(first.Code == 0, first.Err);
        var second = Run("train", "--config", dir["t.json"], "--resume", "--data-root", TestPaths.DataRoot, "--out", dir["t"]);
        Assert.True(second.Code == 0, second.Err);
        Assert.Contains("epoch 1:", second.Out);
        Assert.DoesNotContain("epoch 2:", second.Out); // the file's stop-after holds on resume too
        File.WriteAllText(dir["u.json"], File.ReadAllText(dir["t.json"]).Replace("\"seed\": 3", "\"seed\": 4", StringComparison.Ordinal));
        var changed = Run("train", "--config", dir["u.json"], "--resume", "--data-root", TestPaths.DataRoot, "--out", dir["t"]);
        Assert.Equal(2, changed.Code);
        Assert.Contains("Seed: 3 -> 4", changed.Err);
    }
}
