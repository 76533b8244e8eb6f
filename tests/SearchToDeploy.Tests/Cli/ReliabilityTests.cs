using SearchToDeploy.Core.Io;
using SearchToDeploy.Runs;

namespace SearchToDeploy.Tests.Cli;

/// <summary>Issue 23's smaller defects, each with the check that would have caught it.</summary>
public sealed class ReliabilityTests
{
    [Fact]
    public void Data_verify_refuses_an_image_folder_whose_val_classes_differ_from_train()
    {
        using var dir = new TempDir();
        RealFormats.WriteImageFolder(dir["train"], ["cat", "dog"], 2);
        RealFormats.WriteImageFolder(dir["val"], ["cat", "cow"], 2);
        var (code, _, err) = CliTests.Run("data", "verify", "--dataset", "imagefolder", "--data", dir.Path);
        Assert.Equal(2, code);
        Assert.Contains($"{dir["val"]}: its classes differ from {dir["train"]}'s; missing: dog; extra: cow", err);
    }

    [Fact]
    public void A_diverged_search_says_on_standard_error_that_no_checkpoint_was_written()
    {
        using var dir = new TempDir();
        var (code, output, err) = CliTests.Run("search", "--preset", "smoke", "--epochs", "1", "--lr", "1e30", "--data-root", TestPaths.DataRoot, "--out", dir["s"]);
        Assert.Equal(1, code);
        Assert.Contains("the search stopped and no checkpoint had been written yet", err);
        Assert.DoesNotContain("end of epoch -1", err);
        Assert.DoesNotContain("error:", output);
        Assert.Contains("no checkpoint had been written yet", File.ReadAllText(dir["s/log.txt"]));
    }

    [Fact]
    public void A_run_folder_loses_the_temporary_files_a_killed_writer_left()
    {
        using var dir = new TempDir();
        RunFolder.Prepare(dir["run"], "search", clear: false);
        string stale = dir["run/.checkpoint.s2d.2147483000.0123456789abcdef0123456789abcdef.tmp"];
        string ours = dir[$"run/.options.json.{Environment.ProcessId}.0123456789abcdef0123456789abcdef.tmp"];
        File.WriteAllText(stale, "half a checkpoint");
        File.WriteAllText(ours, "being written");
        RunFolder.Prepare(dir["run"], "search", clear: false);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(ours)); // a live writer's file stays
        Assert.Equal(0, AtomicFile.DeleteStale(dir["run"]));
    }

    [Fact]
    public void Options_keep_the_data_folder_as_an_absolute_path_so_a_resume_works_from_anywhere()
    {
        using var dir = new TempDir();
        RealFormats.WriteImageFolder(dir["data/train"], ["a", "b"], 8, size: 36);
        RealFormats.WriteImageFolder(dir["data/val"], ["a", "b"], 4, size: 36);
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, dir["data"]);
        var (code, _, err) = CliTests.Run("train", "--genotype", SearchToDeploy.Nas.Architectures.KnownGenotypes.Nb201Best, "--dataset", "imagefolder",
            "--data", relative, "--preset", "smoke", "--epochs", "1", "--batch-size", "4", "--out", dir["t"]);
        Assert.True(code == 0, err);
        Assert.Contains($"\"DataPath\": \"{dir["data"]}\"", File.ReadAllText(dir["t/options.json"]));
    }
    [Fact]
    public void A_resumed_training_reads_its_dataset_from_where_data_moved_it()
    {
        using var dir = new TempDir();
        RealFormats.WriteImageFolder(dir["data/train"], ["a", "b"], 8, size: 36);
        RealFormats.WriteImageFolder(dir["data/val"], ["a", "b"], 4, size: 36);
        var (code, _, err) = CliTests.Run("train", "--genotype", SearchToDeploy.Nas.Architectures.KnownGenotypes.Nb201Best, "--dataset", "imagefolder",
            "--data", dir["data"], "--preset", "smoke", "--epochs", "2", "--stop-after", "1", "--batch-size", "4", "--out", dir["t"]);
        Assert.True(code == 0, err);
        Directory.Move(dir["data"], dir["moved"]);
        // Without --dataset the run's own (imagefolder), at the folder --data names now; before, the default cifar10.
        var resumed = CliTests.Run("train", "--out", dir["t"], "--resume", "--data", dir["moved"]);
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains("epoch 1:", resumed.Out);
        Assert.Contains($"\"DataPath\": \"{dir["moved"]}\"", File.ReadAllText(dir["t/options.json"]));
    }
}
