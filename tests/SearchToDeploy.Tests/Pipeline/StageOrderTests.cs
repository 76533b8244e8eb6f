using SearchToDeploy.Pipeline;

namespace SearchToDeploy.Tests.Pipeline;

/// <summary>
/// What a stage may run on: every stage before it complete and up to date; a training stopped early (stop-after) is
/// not complete; bad settings touch nothing; a finished stage whose outputs changed writes them again from its
/// checkpoint; a package is replaced by renames only.
/// </summary>
[Collection(SmokeChainCollection.Name)]
public sealed class StageOrderTests(SmokeChainFixture chain)
{
    [Fact]
    public void A_stage_refuses_to_run_on_an_earlier_stage_that_changed_since_it_ran()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/stale"]);
        // Another model exported after validation: packaging it would ship a model nothing validated.
        File.AppendAllText(dir["runs/stale/export/model.onnx"], " ");
        var runner = PipelineTests.Runner(dir, PipelineTests.Inputs(), TextWriter.Null, "stale");
        var e = Assert.Throws<InputException>(() => runner.Run(Stage.Package));
        Assert.Contains("the export stage is out of date (its outputs changed since it ran)", e.Message);
        Assert.False(Directory.Exists(dir["models/stale"]));
        // A stage that has not run at all.
        Directory.Delete(dir["runs/stale/validate"], recursive: true);
        File.Copy(dir["runs/whole/export/model.onnx"], dir["runs/stale/export/model.onnx"], overwrite: true);
        Assert.Contains("the validate stage has not run", Assert.Throws<InputException>(() => runner.Run(Stage.Package)).Message);
        Assert.False(Directory.Exists(dir["models/stale"]));
    }

    [Fact]
    public void A_training_stopped_early_is_not_exported_and_the_next_run_resumes_it_to_the_same_model()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/stopped"]);
        var inputs = PipelineTests.Inputs();
        var profile = PipelineProfile.Create("smoke", inputs);
        var stopping = profile with { Train = profile.Train with { StopAfterEpochs = 1 } };
        var log = new StringWriter();
        Assert.False(new PipelineRunner(stopping, inputs, dir["runs/stopped"], dir["models"], log).Run(Stage.Train, force: true));
        Assert.Contains($"[train] stopped before its end (1 of {profile.Train.Epochs} epochs)", log.ToString());
        Assert.Equal("stopped", StageManifest.TryLoad(dir["runs/stopped/train"])!.Status);
        // Run through, a stopped training goes on (one more epoch here) and the chain stops after it.
        log = new StringWriter();
        Assert.False(new PipelineRunner(stopping, inputs, dir["runs/stopped"], dir["models"], log).RunThrough(Stage.Package));
        Assert.Contains($"[train] stopped before its end (2 of {profile.Train.Epochs} epochs)", log.ToString());
        Assert.DoesNotContain("[export]", log.ToString());
        var e = Assert.Throws<InputException>(() => new PipelineRunner(profile, inputs, dir["runs/stopped"], dir["models"], TextWriter.Null).Run(Stage.Export));
        Assert.Contains($"the train stage stopped before its end (2 of {profile.Train.Epochs} epochs)", e.Message);

        log = new StringWriter();
        Assert.True(new PipelineRunner(profile, inputs, dir["runs/stopped"], dir["models"], log).RunThrough(Stage.Export));
        Assert.Contains("[train] resuming", log.ToString());
        Assert.Equal(File.ReadAllBytes(dir["runs/whole/export/model.onnx"]), File.ReadAllBytes(dir["runs/stopped/export/model.onnx"]));
    }

    [Fact]
    public void Bad_settings_are_refused_before_a_stage_folder_is_cleared()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/typo"]);
        var inputs = PipelineTests.Inputs();
        var profile = PipelineProfile.Create("smoke", inputs);
        var typo = profile with { Train = profile.Train with { WarmupEpochs = 999 } };
        var e = Assert.Throws<InputException>(() => new PipelineRunner(typo, inputs, dir["runs/typo"], dir["models"], TextWriter.Null).Run(Stage.Train));
        Assert.Contains("--warmup-epochs 999", e.Message);
        Assert.True(File.Exists(dir["runs/typo/train/best.s2d"]), "a refused setting cleared the trained stage");
        Assert.Equal("complete", StageManifest.TryLoad(dir["runs/typo/train"])!.Status);
    }

    [Fact]
    public void A_training_started_over_and_stopped_before_its_first_checkpoint_puts_the_finished_one_back()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/redo"]);
        byte[] model = File.ReadAllBytes(dir["runs/redo/train/best.s2d"]);
        var inputs = PipelineTests.Inputs();
        var profile = PipelineProfile.Create("smoke", inputs);
        var other = profile with { Train = profile.Train with { Seed = profile.Train.Seed + 1 } };
        using var stop = new CancellationTokenSource();
        var log = new StringWriter();
        var runner = new PipelineRunner(other, inputs, dir["runs/redo"], dir["models"], new Tee(log, new CancelOnLine("[train] running into", stop)));
        Assert.ThrowsAny<OperationCanceledException>(() => runner.Run(Stage.Train, cancel: stop.Token));
        Assert.Contains("[train] the new run ended before its first checkpoint; the stage's earlier run is back", log.ToString());
        Assert.Equal(model, File.ReadAllBytes(dir["runs/redo/train/best.s2d"]));
        Assert.Empty(Directory.GetDirectories(dir["runs/redo"], ".*"));
        log = new StringWriter();
        new PipelineRunner(profile, inputs, dir["runs/redo"], dir["models"], log).Run(Stage.Train);
        Assert.Contains("[train] up to date", log.ToString());

        // Killed between its first checkpoint and the end: the new run is kept, the earlier one deleted by the next run.
        Directory.Move(dir["runs/redo/train"], dir["runs/redo/.train.replaced"]);
        SmokeChainFixture.CopyFolder(dir["runs/whole/train"], dir["runs/redo/train"]);
        log = new StringWriter();
        new PipelineRunner(profile, inputs, dir["runs/redo"], dir["models"], log).Run(Stage.Train);
        Assert.Contains("[train] up to date", log.ToString());
        Assert.False(Directory.Exists(dir["runs/redo/.train.replaced"]));
    }

    [Fact]
    public void Data_at_another_place_is_the_same_data_and_a_missing_dataset_touches_no_stage()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/moved"]);
        // The same files under another data root (a node's own copy): every stage is up to date.
        Directory.CreateDirectory(dir["moved-data"]);
        foreach (var name in new[] { "cifar-10-batches-bin", "imagenette-64" })
            Directory.CreateSymbolicLink(dir[$"moved-data/{name}"], Path.Combine(TestPaths.DataRoot, name));
        var inputs = PipelineTests.Inputs() with { DataRoot = dir["moved-data"] };
        var log = new StringWriter();
        PipelineTests.Runner(dir, inputs, log, "moved").RunThrough(Stage.Validate);
        foreach (var stage in new[] { "search", "train", "export", "validate" }) Assert.Contains($"[{stage}] up to date", log.ToString());

        // Without CIFAR-10 the search is refused before its folder is touched.
        File.Delete(dir["moved-data/cifar-10-batches-bin"]);
        var e = Assert.ThrowsAny<InputException>(() => PipelineTests.Runner(dir, inputs, TextWriter.Null, "moved").Run(Stage.Search, force: true));
        Assert.Contains("cifar-10-batches-bin", e.Message);
        Assert.True(File.Exists(dir["runs/moved/search/checkpoint.s2d"]));
        Assert.Equal("complete", StageManifest.TryLoad(dir["runs/moved/search"])!.Status);
    }

    [Fact]
    public void A_training_stage_recorded_with_its_data_folder_by_an_earlier_build_is_up_to_date()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/legacy"]);
        // Earlier builds hashed the training's options with the data's location in them.
        string train = dir["runs/legacy/train"];
        var m = StageManifest.TryLoad(train)!;
        var legacy = new { options = SearchToDeploy.Core.Checkpoints.CheckpointFile.ComparableOptions(typeof(SearchToDeploy.Runs.Training.TrainOptions), File.ReadAllText(Path.Combine(train, "options.json")), includeLocations: true) };
        Assert.Contains("DataPath", legacy.options);
        string hash = StageManifest.HashConfig(legacy);
        Assert.NotEqual(m.ConfigHash, hash);
        (m with { ConfigHash = hash, Config = System.Text.Json.JsonSerializer.SerializeToElement(legacy, StageManifest.Json) }).Save(train);
        var log = new StringWriter();
        PipelineTests.Runner(dir, PipelineTests.Inputs(), log, "legacy").Run(Stage.Train);
        Assert.Contains("[train] up to date", log.ToString());
    }

    /// <summary>Writes to two writers.</summary>
    private sealed class Tee(TextWriter a, TextWriter b) : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value) { a.Write(value); b.Write(value); }
    }

    [Fact]
    public void A_finished_search_or_training_whose_outputs_were_deleted_writes_them_again_from_its_checkpoint()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/deleted"]);
        File.Delete(dir["runs/deleted/search/summary.json"]);
        File.Delete(dir["runs/deleted/train/metrics.json"]);
        var log = new StringWriter();
        PipelineTests.Runner(dir, PipelineTests.Inputs(), log, "deleted").RunThrough(Stage.Export);
        Assert.Contains("[search] resuming", log.ToString());
        Assert.Contains("[train] resuming", log.ToString());
        Assert.DoesNotContain("epoch 0:", log.ToString());
        Assert.Equal(File.ReadAllText(dir["runs/whole/search/summary.json"]), File.ReadAllText(dir["runs/deleted/search/summary.json"]));
        Assert.Equal(File.ReadAllText(dir["runs/whole/train/metrics.json"]), File.ReadAllText(dir["runs/deleted/train/metrics.json"]));
        Assert.Contains("[export] up to date", log.ToString());
    }

    [Fact]
    public void Packaging_again_replaces_the_package_and_clears_what_a_killed_packaging_left()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/again"]);
        var runner = PipelineTests.Runner(dir, PipelineTests.Inputs(), TextWriter.Null, "again");
        runner.Run(Stage.Package, force: true);
        // What a kill mid-packaging leaves: a staging folder, and the old package moved aside.
        string staging = dir[$"models/.again.{Guid.NewGuid():N}.tmp"], aside = dir[$"models/.again.{Guid.NewGuid():N}.old"];
        Directory.CreateDirectory(staging);
        Directory.Move(dir["models/again"], aside);
        // Another run whose name starts with this one's keeps its staging folder.
        string other = dir[$"models/.again.b.{Guid.NewGuid():N}.tmp"];
        Directory.CreateDirectory(other);
        runner.Run(Stage.Package, force: true);
        Assert.True(File.Exists(dir["models/again/model.onnx"]));
        Assert.Equal([other], Directory.GetDirectories(dir["models"], ".again.*"));
        Directory.Delete(other);
    }

    [Fact]
    public void The_pipeline_command_exits_4_when_a_stage_stopped_before_its_end()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/stopped-cli"]);
        var output = new StringWriter();
        int code = SearchToDeploy.Cli.S2dApp.Run(["pipeline", "--stage", "train", "--profile", "smoke", "--runs", dir["runs"], "--run", "stopped-cli",
            "--models", dir["models"], "--data-root", TestPaths.DataRoot, "--force", "--set", "train.stop-after=1"], output, output);
        Assert.True(code == SearchToDeploy.Cli.S2dApp.Stopped, $"exit code {code}:\n{output}");
        Assert.Contains("[train] stopped before its end (1 of", output.ToString());
    }

    [Fact]
    public void A_cancelled_pipeline_starts_no_further_stage()
    {
        using var dir = new TempDir();
        using var stopped = new CancellationTokenSource();
        stopped.Cancel();
        var runner = PipelineTests.Runner(dir, PipelineTests.Inputs(), TextWriter.Null, "cancelled");
        Assert.ThrowsAny<OperationCanceledException>(() => runner.RunThrough(Stage.Package, cancel: stopped.Token));
        Assert.False(Directory.Exists(dir["runs/cancelled/search"]));
    }
}
