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
        Assert.Equal([RunFolder.LockName, RunFolder.MarkerName], Directory.GetFileSystemEntries(dir["run"]).Select(Path.GetFileName).Order());

        // An empty folder is taken (and marked); a file is not a folder.
        Directory.CreateDirectory(dir["empty"]);
        RunFolder.Prepare(dir["empty"], "train", clear: true);
        Assert.True(RunFolder.IsOwned(dir["empty"]));
        File.WriteAllText(dir["file"], "x");
        Assert.Contains("is a file", Assert.Throws<InputException>(() => RunFolder.Prepare(dir["file"], "train", clear: true)).Message);
    }

    [Fact]
    public void Force_with_refused_settings_keeps_the_earlier_run()
    {
        using var dir = new TempDir();
        RunFolder.Prepare(dir["s"], "search", clear: false);
        File.WriteAllText(dir["s/checkpoint.s2d"], "the finished search");
        File.WriteAllText(dir["s/genotype.json"], "its cell");
        // Settings refused together are refused before the folder is touched.
        var search = CliTests.Run("search", "--preset", "smoke", "--epochs", "5", "--arch-warmup", "5", "--data-root", TestPaths.DataRoot, "--out", dir["s"], "--force");
        Assert.Equal(2, search.Code);
        Assert.Contains("--arch-warmup 5: must be below --epochs 5", search.Err);
        Assert.Equal("the finished search", File.ReadAllText(dir["s/checkpoint.s2d"]));
        // Data found missing only by the run, after the earlier run was moved aside: it is put back.
        Directory.CreateDirectory(dir["empty"]);
        search = CliTests.Run("search", "--preset", "smoke", "--data-root", dir["empty"], "--out", dir["s"], "--force");
        Assert.Equal(2, search.Code);
        Assert.Contains("cifar-10-batches-bin: folder not found", search.Err);
        Assert.Contains("the run --force was replacing is back in place", search.Err);
        Assert.Equal("the finished search", File.ReadAllText(dir["s/checkpoint.s2d"]));
        Assert.Equal("its cell", File.ReadAllText(dir["s/genotype.json"]));
        Assert.False(Directory.Exists(dir["s/" + RunFolder.ReplacedName]));
    }

    [Fact]
    public void A_replaced_run_is_deleted_once_the_new_run_has_a_checkpoint_and_put_back_otherwise()
    {
        using var dir = new TempDir();
        var notes = new StringWriter();
        RunFolder.Prepare(dir["r"], "train", clear: false);
        File.WriteAllText(dir["r/last.s2d"], "old");
        Directory.CreateDirectory(dir["r/plots"]);
        using (var lease = RunFolder.Lease(dir["r"], "train", replace: true, notes))
        {
            Assert.True(lease.Replacing);
            Assert.False(File.Exists(dir["r/last.s2d"]));
            File.WriteAllText(dir["r/log.txt"], "the new run failed");
        }
        Assert.Equal("old", File.ReadAllText(dir["r/last.s2d"]));
        Assert.True(Directory.Exists(dir["r/plots"]));
        Assert.False(File.Exists(dir["r/log.txt"]));
        Assert.Contains("back in place", notes.ToString());

        using (RunFolder.Lease(dir["r"], "train", replace: true, notes)) File.WriteAllText(dir["r/last.s2d"], "new");
        Assert.Equal("new", File.ReadAllText(dir["r/last.s2d"]));
        Assert.False(Directory.Exists(dir["r/plots"]));
        Assert.False(Directory.Exists(dir["r/" + RunFolder.ReplacedName]));

        // A replacement a killed process left (no checkpoint of the new run yet) is put back by the next run in the folder.
        Directory.CreateDirectory(dir["r/" + RunFolder.ReplacedName]);
        File.Move(dir["r/last.s2d"], dir["r/" + RunFolder.ReplacedName + "/last.s2d"]);
        File.WriteAllText(dir["r/log.txt"], "killed before its first checkpoint");
        using (RunFolder.Lease(dir["r"], "train", replace: false, notes)) Assert.Equal("new", File.ReadAllText(dir["r/last.s2d"]));
        Assert.False(File.Exists(dir["r/log.txt"]));
    }

    [Fact]
    public void A_replacement_killed_before_it_moved_anything_leaves_the_run_in_place()
    {
        // The aside folder made, its journal not yet written: nothing moved, and no checkpoint in the run to tell.
        using var dir = new TempDir();
        RunFolder.Prepare(dir["r"], "search", clear: false);
        File.WriteAllText(dir["r/genotype.json"], "the cell");
        Directory.CreateDirectory(dir[$"r/{RunFolder.ReplacedName}"]);
        RunFolder.SettleReplacement(dir["r"], TextWriter.Null);
        Assert.Equal("the cell", File.ReadAllText(dir["r/genotype.json"]));
        Assert.False(Directory.Exists(dir[$"r/{RunFolder.ReplacedName}"]));
    }

    [Fact]
    public void A_replacement_cut_short_in_either_move_is_finished_by_the_next_run()
    {
        using var dir = new TempDir();
        string aside = RunFolder.ReplacedName;
        // Killed while moving the earlier run aside: half of it moved, with the journal. It all comes back.
        RunFolder.Prepare(dir["a"], "search", clear: false);
        File.WriteAllText(dir["a/checkpoint.s2d"], "old checkpoint");
        Directory.CreateDirectory(dir[$"a/{aside}"]);
        File.WriteAllText(dir[$"a/{aside}/.s2d-moving"], "");
        File.WriteAllText(dir[$"a/{aside}/options.json"], "old options");
        var notes = new StringWriter();
        RunFolder.SettleReplacement(dir["a"], notes);
        Assert.Equal("old checkpoint", File.ReadAllText(dir["a/checkpoint.s2d"]));
        Assert.Equal("old options", File.ReadAllText(dir["a/options.json"]));
        Assert.False(Directory.Exists(dir[$"a/{aside}"]));
        Assert.Contains("cut short while it moved the earlier run aside", notes.ToString());

        // Killed while putting the earlier run back: the new run's files are gone and some old ones are back
        // (a checkpoint among them, which must not be taken for the new run's). The rest comes back too.
        RunFolder.Prepare(dir["b"], "search", clear: false);
        File.WriteAllText(dir["b/checkpoint.s2d"], "old checkpoint, back already");
        Directory.CreateDirectory(dir[$"b/{aside}"]);
        File.WriteAllText(dir[$"b/{aside}/.s2d-restoring"], "");
        File.WriteAllText(dir[$"b/{aside}/genotype.json"], "old cell");
        using (RunFolder.Lease(dir["b"], "search", replace: false, TextWriter.Null)) { }
        Assert.Equal("old cell", File.ReadAllText(dir["b/genotype.json"]));
        Assert.Equal("old checkpoint, back already", File.ReadAllText(dir["b/checkpoint.s2d"]));
        Assert.False(Directory.Exists(dir[$"b/{aside}"]));

        // A folder that is not s2d's is never settled, whatever it holds; one holding only a lock file is empty.
        Directory.CreateDirectory(dir[$"mine/{aside}"]);
        File.WriteAllText(dir["mine/notes.txt"], "mine");
        RunFolder.SettleReplacement(dir["mine"], TextWriter.Null);
        Assert.Equal("mine", File.ReadAllText(dir["mine/notes.txt"]));
        Directory.CreateDirectory(dir["locked"]);
        File.WriteAllText(dir[$"locked/{RunFolder.LockName}"], "");
        RunFolder.Prepare(dir["locked"], "train", clear: false);
        Assert.True(RunFolder.IsOwned(dir["locked"]));
    }

    [Fact]
    public void Resume_after_a_force_cut_short_puts_the_earlier_run_back_before_reading_it()
    {
        using var dir = new TempDir();
        var train = CliTests.Run("train", "--genotype", Nb201Cell, "--preset", "smoke", "--epochs", "1", "--max-train-images", "256", "--max-valid-images", "128",
            "--data-root", TestPaths.DataRoot, "--out", dir["t"]);
        Assert.True(train.Code == 0, train.Err);
        // What a kill of `s2d train --force` in its first epoch leaves: the run aside, the new run's first files in place.
        string aside = dir["t/" + RunFolder.ReplacedName];
        Directory.CreateDirectory(aside);
        foreach (var e in Directory.GetFileSystemEntries(dir["t"]).Where(e => !Path.GetFileName(e).StartsWith('.')))
            if (Directory.Exists(e)) Directory.Move(e, Path.Combine(aside, Path.GetFileName(e)));
            else File.Move(e, Path.Combine(aside, Path.GetFileName(e)));
        File.WriteAllText(dir["t/options.json"], "{\"Preset\": \"smoke\", \"Seed\": 99}");
        File.WriteAllText(dir["t/log.txt"], "the new run, killed");
        var resumed = CliTests.Run("train", "--out", dir["t"], "--resume", "--data-root", TestPaths.DataRoot);
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains("the run --force was replacing is back in place", resumed.Err);
        Assert.Contains("(1/1 epochs done)", resumed.Out);
        Assert.False(Directory.Exists(aside));
    }

    [Fact]
    public void A_folder_of_another_kind_of_run_or_one_another_process_writes_is_refused()
    {
        using var dir = new TempDir();
        RunFolder.Prepare(dir["s"], "search", clear: false);
        File.WriteAllText(dir["s/checkpoint.s2d"], "a search");
        var e = Assert.Throws<InputException>(() => RunFolder.Prepare(dir["s"], "train", clear: true));
        Assert.Contains($"--out {dir["s"]}: holds a search run; a train run needs a folder of its own", e.Message);
        Assert.Throws<InputException>(() => RunFolder.Lease(dir["s"], "train", replace: false, TextWriter.Null));
        Assert.Equal("a search", File.ReadAllText(dir["s/checkpoint.s2d"]));
        RunFolder.Prepare(dir["s"], "stage search", clear: false); // a pipeline's search stage holds a search run

        using (RunFolder.Lease(dir["s"], "search", replace: false, TextWriter.Null))
        {
            var busy = Assert.Throws<InputException>(() => RunFolder.Lease(dir["s"], "search", replace: true, TextWriter.Null));
            Assert.Contains("another s2d process is writing this folder", busy.Message);
            Assert.Throws<InputException>(() => RunFolder.Prepare(dir["s"], "search", clear: true));
            Assert.Equal("a search", File.ReadAllText(dir["s/checkpoint.s2d"]));
        }
        using (RunFolder.Lease(dir["s"], "search", replace: false, TextWriter.Null)) { } // released with the first
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
