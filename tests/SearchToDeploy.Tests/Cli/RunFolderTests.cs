using SearchToDeploy.Runs;

namespace SearchToDeploy.Tests.Cli;

/// <summary>s2d deletes and writes into only new, empty or its own run folders: a mistyped --out never loses a user's files.</summary>
public sealed class RunFolderTests
{
    private const string Nb201Cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";

    private static void WriteUserFiles(TempDir dir)
    {
        Directory.CreateDirectory(dir["x/sub"]);
        File.WriteAllText(dir["x/important.txt"], "keep");
        File.WriteAllText(dir["x/sub/also.txt"], "keep too");
    }

    private static void AssertUserFilesKept(TempDir dir)
    {
        Assert.Equal("keep", File.ReadAllText(dir["x/important.txt"]));
        Assert.Equal("keep too", File.ReadAllText(dir["x/sub/also.txt"]));
        Assert.Equal(2, Directory.GetFileSystemEntries(dir["x"]).Length);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Search_and_train_refuse_a_folder_that_is_not_an_s2d_run_with_exit_code_2(bool force)
    {
        using var dir = new TempDir();
        WriteUserFiles(dir);
        string[] Extra(params string[] a) => force ? [.. a, "--force"] : a;
        var search = CliTests.Run(Extra("search", "--preset", "smoke", "--epochs", "1", "--data-root", TestPaths.DataRoot, "--out", dir["x"]));
        Assert.Equal(2, search.Code);
        Assert.Contains($"--out {dir["x"]}: the folder exists, is not empty and is not an s2d run folder", search.Err);
        var train = CliTests.Run(Extra("train", "--genotype", Nb201Cell, "--preset", "smoke", "--data-root", TestPaths.DataRoot, "--out", dir["x"]));
        Assert.Equal(2, train.Code);
        Assert.Contains("is not an s2d run folder", train.Err);
        AssertUserFilesKept(dir);
    }

    [Fact]
    public void Force_on_the_working_directory_is_refused()
    {
        // A working directory of the user's files (a scratch copy, never the test binaries' folder): not an s2d run folder.
        using var dir = new TempDir();
        File.WriteAllText(dir["notes.txt"], "mine");
        Directory.CreateDirectory(dir["photos"]);
        using (dir.AsWorkingDirectory())
        {
            var search = CliTests.Run("search", "--preset", "smoke", "--data-root", TestPaths.DataRoot, "--out", ".", "--force");
            Assert.Equal(2, search.Code);
            Assert.Contains("--out .: the folder exists", search.Err);
        }
        Assert.Equal(["notes.txt", "photos"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void Force_clears_an_s2d_run_folder_and_marks_new_ones()
    {
        using var dir = new TempDir();
        RunFolder.Prepare(dir["run"], "search", clear: false);
        Assert.True(File.Exists(dir["run/" + RunFolder.MarkerName]));
        File.WriteAllText(dir["run/stale.txt"], "from the last run");
        Directory.CreateDirectory(dir["run/plots"]);
        RunFolder.Prepare(dir["run"], "search", clear: false);
        Assert.True(File.Exists(dir["run/stale.txt"]));
        RunFolder.Prepare(dir["run"], "search", clear: true);
        Assert.Equal([RunFolder.MarkerName], Directory.GetFileSystemEntries(dir["run"]).Select(Path.GetFileName));

        // An empty folder is taken (and marked); a file is not a folder.
        Directory.CreateDirectory(dir["empty"]);
        RunFolder.Prepare(dir["empty"], "train", clear: true);
        Assert.True(RunFolder.IsOwned(dir["empty"]));
        File.WriteAllText(dir["file"], "x");
        Assert.Contains("is a file", Assert.Throws<InputException>(() => RunFolder.Prepare(dir["file"], "train", clear: true)).Message);
    }

    [Fact]
    public void Run_folders_of_builds_before_the_marker_are_recognised_by_their_own_files()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["search"]);
        File.WriteAllText(dir["search/options.json"], "{\"Preset\": \"cpu\", \"Method\": \"rf-pcdarts\"}");
        File.WriteAllText(dir["search/log.txt"], "old log");
        Assert.True(RunFolder.IsOwned(dir["search"]));
        Directory.CreateDirectory(dir["stage"]);
        File.WriteAllText(dir["stage/manifest.json"], "{\"stage\": \"train\", \"config_hash\": \"ab\"}");
        Assert.True(RunFolder.IsOwned(dir["stage"]));
        Directory.CreateDirectory(dir["package"]);
        File.WriteAllBytes(dir["package/model.onnx"], [8, 1]);
        File.WriteAllText(dir["package/validation.json"], "{\"model\": \"m\", \"top1\": 80.1}");
        Assert.True(SearchToDeploy.Pipeline.PackageFolder.IsPackage(dir["package"]));
        Assert.False(RunFolder.IsOwned(dir["package"]));
        // A user's own options.json is not enough.
        Directory.CreateDirectory(dir["mine"]);
        File.WriteAllText(dir["mine/options.json"], "{\"colour\": \"blue\"}");
        Assert.False(RunFolder.IsOwned(dir["mine"]));
        Assert.Throws<InputException>(() => RunFolder.Delete(dir["mine"], "package folder"));
        Assert.True(File.Exists(dir["mine/options.json"]));
    }
}
