using SearchToDeploy.Core.Torch;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Deploy.Validation;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Pipeline;

namespace SearchToDeploy.Tests.Pipeline;

/// <summary>The smoke Deploy chain (a DARTS-space search on real CIFAR-10, the cell retrained on Imagenette at 64 px): packaging, skipping, gates and interruption.</summary>
[Collection(SmokeChainCollection.Name)]
public sealed class PipelineTests(SmokeChainFixture chain)
{
    internal static PipelineInputs Inputs(double? gate1 = null) => new(TestPaths.DataRoot, GateTop1: gate1, Threads: 0);

    [Fact]
    public void Chains_that_differ_from_their_profile_get_run_names_of_their_own()
    {
        string Run(string profile, PipelineInputs i) => PipelineProfile.DefaultRun(PipelineProfile.Create(profile, i, openData: false), i);
        Assert.Equal("imagenet", Run("imagenet", Inputs()));
        Assert.Equal("nb201", Run("nb201", Inputs() with { Space = "nb201" }));
        // The full ImageNet, an image folder, another space or method: never the stage folders of the profile's own chain.
        Assert.Equal("imagenet-224", Run("imagenet", Inputs() with { ImageNet = "/data/imagenet" }));
        Assert.Equal("imagenet-my-flowers", Run("imagenet", Inputs() with { Transfer = "/data/my flowers/" }));
        Assert.Equal("smoke-s1-darts", Run("smoke", Inputs() with { Space = "s1", Method = SearchMethod.Darts }));
    }

    [Fact]
    public void A_card_of_a_model_of_five_classes_or_fewer_gives_no_top5_figure()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["models/whole"], dir["models/three"]);
        // The same model, its metadata naming 3 classes (as a --transfer to a 3-class folder would).
        var model = SearchToDeploy.Deploy.Onnx.OnnxModelFile.Read(dir["models/three/model.onnx"]);
        model.MetadataProps.Single(p => p.Key == ModelMetadata.Keys.Classes).Value = "[\"a\",\"b\",\"c\"]";
        SearchToDeploy.Deploy.Onnx.OnnxModelFile.Write(dir["models/three/model.onnx"], model);
        var report = System.Text.Json.JsonSerializer.Deserialize<ValidationReport>(File.ReadAllText(dir["models/whole/validation.json"]), ValidationReport.Json)!;
        var profile = PipelineProfile.Create("smoke", Inputs());
        string card = ModelCard.Write("three", profile, report, new PackageFolder(dir["models/three"]), new SearchToDeploy.Runs.Training.TrainRunFolder(dir["runs/whole/train"]));
        Assert.DoesNotContain("top_5_accuracy", card);
        Assert.Contains("| top-5 | 100% by construction: the model has 3 classes", card);
        Assert.Contains("top_5_accuracy", ModelCard.Write("whole", profile, report, new PackageFolder(dir["models/whole"]), new SearchToDeploy.Runs.Training.TrainRunFolder(dir["runs/whole/train"])));
    }

    internal static PipelineRunner Runner(TempDir dir, PipelineInputs inputs, TextWriter log, string run = "r") =>
        new(PipelineProfile.Create("smoke", inputs), inputs, dir[$"runs/{run}"], dir["models"], log);

    [Fact]
    public void Chain_packages_a_gated_model_then_skips_what_is_up_to_date_and_redoes_what_changed()
    {
        var dir = chain.Dir;
        foreach (var f in new[] { "model.onnx", "genotype.json", "validation.json", "README.md", "training_curves.png", "cell_normal.svg", "cell_reduce.svg" })
            Assert.True(File.Exists(dir[$"models/whole/{f}"]), $"{f} missing from the package");
        Assert.Contains("top-1", File.ReadAllText(dir["models/whole/README.md"]));
        // The transfer reached ImageNet classes: the model names them, and the card and report give each its accuracy.
        Assert.Contains("\"golf ball\"", OnnxModelFile.ReadMetadata(dir["models/whole/model.onnx"])[ModelMetadata.Keys.Classes]);
        string card = File.ReadAllText(dir["models/whole/README.md"]);
        Assert.Contains("| golf ball | ", card);
        // Hub front matter with the validated metrics, limitations, the citation, and no path of this machine.
        Assert.StartsWith("---\nlicense: other\n", card);
        Assert.Contains("datasets: [cifar10, imagenette]", card);
        Assert.Contains("random-features", card);
        Assert.Matches(@"name: top-1 accuracy, value: \d+\.\d\d\}", card);
        Assert.Contains("split: validation subset}", card); // 500 of Imagenette's 3,925 validation images
        Assert.Contains("| validated on | 500 of the 3,925 images of imagenette's evaluation split", card);
        Assert.Contains("## Intended use and limitations", card);
        Assert.Contains("title     = {Differentiable Architecture Search with Random Features}", card);
        Assert.DoesNotContain(TestPaths.DataRoot, card);
        Assert.DoesNotContain(dir.Path, card);
        Assert.Contains("s2d serve --model models/whole/model.onnx", card); // the folders as given (--runs, --models), never absolute
        Assert.Contains("in `runs/whole/`", card);
        Assert.DoesNotContain(dir.Path, File.ReadAllText(dir["models/whole/validation.json"]));
        Assert.DoesNotContain(TestPaths.DataRoot, File.ReadAllText(dir["models/whole/validation.json"]));
        Assert.True(File.Exists(dir["runs/whole/validate/gates.junit.xml"]), "the validate stage wrote no JUnit XML");
        var report = System.Text.Json.JsonSerializer.Deserialize<ValidationReport>(File.ReadAllText(dir["models/whole/validation.json"]), ValidationReport.Json)!;
        Assert.Equal(10, report.PerClass.Count);
        Assert.Equal(500, report.Images);
        Assert.Contains(report.PerClass, c => c.Label == "golf ball" && c.Images > 0);
        // One genotype document from search to package, each stage's provenance appended.
        var packaged = GenotypeFile.LoadDocument(dir["models/whole/genotype.json"]);
        Assert.Equal(["search", "train", "export", "package"], packaged.Provenance.Select(p => p["stage"]!.GetValue<string>()));
        var inModel = ModelMetadata.Read(dir["models/whole/model.onnx"]).Genotype;
        Assert.Equal(inModel.ToJson(), (packaged with { Provenance = [.. packaged.Provenance.SkipLast(1)] }).ToJson());
        Assert.Equal("rf-pcdarts", packaged.Stage("search")!["method"]!.GetValue<string>());
        Assert.DoesNotContain("/tmp/", File.ReadAllText(dir["models/whole/genotype.json"]));
        foreach (var s in PipelineRunner.All)
            Assert.Contains("\"status\": \"complete\"", File.ReadAllText(dir[$"runs/whole/{s.ToString().ToLowerInvariant()}/manifest.json"]));

        var log = new StringWriter();
        Runner(dir, Inputs(), log, "whole").RunThrough(Stage.Package);
        Assert.Equal(5, CountOf(log.ToString(), "skipped"));

        // A deleted package is noticed and written again.
        Directory.Delete(dir["models/whole"], recursive: true);
        log = new StringWriter();
        Runner(dir, Inputs(), log, "whole").RunThrough(Stage.Package);
        Assert.Equal(4, CountOf(log.ToString(), "skipped"));
        Assert.True(File.Exists(dir["models/whole/model.onnx"]));
    }

    [Fact]
    public void Another_cell_selection_selects_again_from_the_search_stages_supernet()
    {
        // --selection is a runtime setting of the search, but it decides the stage's genotype: the stage is redone, from
        // its trained supernet, without training it again; and back to alpha the same way.
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/selected"]);
        var inputs = Inputs();
        var alpha = PipelineProfile.Create("smoke", inputs);
        var perturbation = alpha with { Search = alpha.Search with { Selection = "perturbation", SelectionImages = 32 } };
        foreach (var (profile, selected) in new[] { (perturbation, true), (alpha, false) })
        {
            var log = new StringWriter();
            new PipelineRunner(profile, inputs, dir["runs/selected"], dir["models"], log).RunThrough(Stage.Search);
            Assert.Equal(0, CountOf(log.ToString(), "skipped"));
            Assert.Contains($"another cell selection ({profile.Search.Selection}): selecting again from its checkpoint", log.ToString());
            Assert.DoesNotContain("epoch 0:", log.ToString());
            Assert.Equal(selected, File.ReadAllText(dir["runs/selected/search/genotype.json"]).Contains("\"selection\": \"perturbation\""));
            Assert.Contains("\"status\": \"complete\"", File.ReadAllText(dir["runs/selected/search/manifest.json"]));
            // A model card says how the cell was chosen, and cites the rule when it is DARTS-PT's.
            var report = System.Text.Json.JsonSerializer.Deserialize<ValidationReport>(File.ReadAllText(dir["models/whole/validation.json"]), ValidationReport.Json)!;
            string card = ModelCard.Write("selected", profile, report, new PackageFolder(dir["models/whole"]), new SearchToDeploy.Runs.Training.TrainRunFolder(dir["runs/whole/train"]));
            Assert.Equal(selected, card.Contains("The cell was selected by perturbation"));
            Assert.Equal(selected, card.Contains("Rethinking Architecture Selection in Differentiable NAS"));
            Assert.Equal(!selected, card.Contains("The cell keeps each edge's op of largest α."));
        }
        // Another supernet (here another seed) is searched from the start.
        var reseeded = new StringWriter();
        var seeded = alpha with { Search = alpha.Search with { Seed = alpha.Search.Seed + 1, Epochs = 1 } };
        new PipelineRunner(seeded, inputs, dir["runs/selected"], dir["models"], reseeded).RunThrough(Stage.Search);
        Assert.Contains("[search] running into", reseeded.ToString());
        Assert.Contains("epoch 0:", reseeded.ToString());
    }

    [Fact]
    public void A_changed_gate_redoes_validation_and_a_failed_gate_writes_nothing_under_models()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/gated"]);
        var log = new StringWriter();
        var runner = Runner(dir, Inputs(gate1: 99), log, "gated");
        var e = Assert.Throws<GateFailedException>(() => runner.RunThrough(Stage.Package));
        Assert.Contains("under the gate of 99", e.Message);
        Assert.Equal(3, CountOf(log.ToString(), "skipped")); // search, train and export are reused
        Assert.False(Directory.Exists(dir["models/gated"]));
        var failed = StageManifest.TryLoad(dir["runs/gated/validate"])!;
        Assert.Equal("failed", failed.Status);
        Assert.Contains("under the gate of 99", failed.Error);
        Assert.Throws<GateFailedException>(() => runner.Run(Stage.Package));
        Assert.False(Directory.Exists(dir["models/gated"]));
    }

    [Fact]
    public void Packaging_refuses_a_report_that_did_not_pass_even_when_its_stage_reads_complete()
    {
        var dir = chain.Dir;
        SmokeChainFixture.CopyFolder(dir["runs/whole"], dir["runs/forged"]);
        string report = dir["runs/forged/validate/validation.json"];
        string text = File.ReadAllText(report);
        Assert.Contains("\"passed\": true", text);
        File.WriteAllText(report, text.Replace("\"passed\": true", "\"passed\": false", StringComparison.Ordinal));
        var m = StageManifest.TryLoad(dir["runs/forged/validate"])!;
        m.Outputs["validation.json"] = StageManifest.HashFile(report); // the stage reads complete and up to date
        m.Save(dir["runs/forged/validate"]);
        var e = Assert.Throws<GateFailedException>(() => Runner(dir, Inputs(), TextWriter.Null, "forged").Run(Stage.Package));
        Assert.Contains("did not pass its gates", e.Message);
        Assert.False(Directory.Exists(dir["models/forged"]));
    }

    [Fact]
    public void Interrupted_during_search_and_training_the_chain_finishes_with_the_same_model()
    {
        var dir = chain.Dir;
        foreach (var trigger in new[] { "epoch 0: done", "epoch 0: checkpoint written" })
        {
            using var cts = new CancellationTokenSource();
            var killer = new CancelOnLine(trigger, cts);
            Assert.ThrowsAny<OperationCanceledException>(() => Runner(dir, Inputs(), killer, "split").RunThrough(Stage.Package, cancel: cts.Token));
        }
        var log = new StringWriter();
        Runner(dir, Inputs(), log, "split").RunThrough(Stage.Package);
        Assert.Contains("[search] up to date", log.ToString());
        Assert.Contains("[train] resuming", log.ToString());
        Assert.Equal(File.ReadAllBytes(dir["models/whole/model.onnx"]), File.ReadAllBytes(dir["models/split/model.onnx"]));
    }

    [Theory]
    [InlineData("imagenet", null, NetworkKind.ImageNet64)]
    [InlineData("imagenet", "darts", NetworkKind.ImageNet64)]
    [InlineData("imagenet", "S3", NetworkKind.ImageNet64)]
    [InlineData("smoke", null, NetworkKind.ImageNet64)]
    [InlineData("smoke", "s1", NetworkKind.ImageNet64)]
    [InlineData("smoke", "NB201", NetworkKind.Nb201)]
    [InlineData("smoke", "nas-bench-201", NetworkKind.Nb201)]
    [InlineData("nb201", null, NetworkKind.Nb201)]
    [InlineData("quick", "nas-bench-201", NetworkKind.Nb201)]
    public void A_search_space_picks_the_network_its_cells_build_however_it_is_spelled(string profile, string? space, NetworkKind network) =>
        Assert.Equal(network, PipelineProfile.Create(profile, Inputs() with { Space = space }).Train.Network);

    [Theory]
    [InlineData("imagenet", "nas-bench-201", "use --profile nb201")]
    [InlineData("nb201", "darts", "use --profile imagenet")]
    [InlineData("deploy", null, "--profile 'deploy': expected one of imagenet, nb201, smoke, paper")]
    public void A_profile_refuses_a_space_whose_cells_cannot_build_its_network(string profile, string? space, string message) =>
        Assert.Contains(message, Assert.Throws<InputException>(() => PipelineProfile.Create(profile, Inputs() with { Space = space })).Message);

    [Fact]
    public void The_default_chain_searches_the_darts_space_on_cifar10_and_retrains_on_imagenette_at_64_px()
    {
        var p = PipelineProfile.Create(PipelineProfile.Default, Inputs());
        Assert.Equal("darts", p.Search.Space);
        Assert.Equal(SearchMethod.RfPcDarts, p.Search.Method);
        Assert.Equal("cifar10", p.Search.Dataset);
        Assert.Equal(SearchToDeploy.Data.DatasetKind.Imagenette, p.TrainData.Kind);
        Assert.Equal(SearchToDeploy.Data.Imagenette.Locate(TestPaths.DataRoot), p.TrainData.Location); // the 64-px copy, or the official archive's
        Assert.Equal((NetworkKind.ImageNet64, 64, 10), (p.Train.Network, p.Train.ImageSize, p.TrainData.Open(SearchToDeploy.Data.Split.Train).Classes.Count));
        Assert.Equal(0, p.ValidateMaxImages);
        // Its cell is selected by perturbation (--set reverts to alpha); the other chains select by alpha, the paper's as published.
        Assert.Equal("perturbation", p.Search.Selection);
        Assert.Equal("alpha", PipelineProfile.Create(PipelineProfile.Default, Inputs() with { Settings = ["search.selection=alpha"] }).Search.Selection);
        Assert.Equal("alpha", PipelineProfile.Create("nb201", Inputs()).Search.Selection);
        // The full ImageNet is checked before anything runs: the 1,000-image sample has no train/ split.
        var e = Assert.Throws<SearchToDeploy.Data.DatasetNotFoundException>(() => PipelineProfile.Create("imagenet", Inputs() with { ImageNet = TestPaths.ImageNetSample }));
        Assert.Contains("imagenet-sample/train: ImageNet train folder not found", e.Message);
    }

    [Fact]
    public void Parallel_steps_the_derivation_rule_and_the_precision_reach_the_search_options()
    {
        foreach (var profile in new[] { "smoke", "imagenet", "nb201" })
        {
            Assert.False(PipelineProfile.Create(profile, Inputs()).Search.ParallelSteps);
            Assert.True(PipelineProfile.Create(profile, Inputs() with { ParallelSteps = true }).Search.ParallelSteps);
            Assert.False(PipelineProfile.Create(profile, Inputs()).Search.DeriveWithoutNone);
            Assert.True(PipelineProfile.Create(profile, Inputs() with { DeriveWithoutNone = true }).Search.DeriveWithoutNone);
            Assert.Equal(Precision.Float32, PipelineProfile.Create(profile, Inputs()).Search.Precision);
            Assert.Equal(Precision.BFloat16, PipelineProfile.Create(profile, Inputs() with { Precision = Precision.BFloat16 }).Search.Precision);
        }
    }

    [Fact]
    public void The_device_reaches_search_and_training()
    {
        foreach (var profile in new[] { "smoke", "imagenet", "nb201" })
        {
            var p = PipelineProfile.Create(profile, Inputs() with { Device = "cuda:1" });
            Assert.Equal("cuda:1", p.Search.Device);
            Assert.Equal("cuda:1", p.Train.Device);
            Assert.Equal("auto", PipelineProfile.Create(profile, Inputs()).Search.Device);
        }
    }

    private static int CountOf(string text, string word) => text.Split(word).Length - 1;
}
