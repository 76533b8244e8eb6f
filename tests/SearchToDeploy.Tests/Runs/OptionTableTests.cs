using SearchToDeploy.Cli;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Pipeline;
using SearchToDeploy.Runs;
using SearchToDeploy.Runs.Search;
using SearchToDeploy.Runs.Training;
using SearchToDeploy.Tests.Cli;

namespace SearchToDeploy.Tests.Runs;

/// <summary>One option table for the search and training commands, the pipeline's --set and settings files.</summary>
public sealed class OptionTableTests
{
    [Fact]
    public void The_records_declare_every_setting_the_commands_take_with_its_range()
    {
        var search = OptionTable.For<SearchOptions>().Select(e => e.Name).ToHashSet();
        foreach (var name in new[] { "--seed", "--epochs", "--batch-size", "--train-portion", "--max-images", "--valid-images", "--lr", "--lr-min", "--momentum",
                     "--nesterov", "--weight-decay", "--bn-weight-decay", "--grad-clip", "--drop-path", "--cutout", "--arch-lr", "--arch-weight-decay", "--arch-warmup",
                     "--unrolled", "--unrolled-epsilon", "--parallel-steps", "--precision", "--channels", "--layers", "--nodes", "--partial-k", "--frozen-init",
                     "--train-classifier", "--bn-running-stats", "--bn-momentum", "--derive-without-none", "--workers", "--threads", "--nb201-table" })
            Assert.Contains(name, search);
        var train = OptionTable.For<TrainOptions>().Select(e => e.Name).ToHashSet();
        foreach (var name in new[] { "--channels", "--layers", "--aux-weight", "--drop-path", "--image-size", "--epochs", "--lr", "--lr-min", "--schedule", "--gamma",
                     "--warmup-epochs", "--momentum", "--nesterov", "--weight-decay", "--label-smoothing", "--grad-clip", "--cutout", "--color-jitter", "--crop-scale",
                     "--max-train-images", "--max-valid-images", "--seed", "--workers", "--threads", "--stop-after" })
            Assert.Contains(name, train);
    }

    [Fact]
    public void Values_given_as_text_are_parsed_range_checked_and_applied_to_a_copy()
    {
        var o = SearchPresets.Create("cpu", "darts", SearchMethod.RfPcDarts);
        var changed = OptionTable.ApplyText(o, [new("lr", "0.5"), new("--precision", "bf16"), new("frozen-init", "kaiming-uniform"), new("nesterov", "true")], "test");
        Assert.Equal((0.5, Precision.BFloat16, true), (changed.LearningRate, changed.Precision, changed.Nesterov));
        Assert.Equal(o.Epochs, changed.Epochs);
        Assert.NotEqual(0.5, o.LearningRate); // the original is untouched
        Assert.Contains("unknown setting 'learning-rate'", Assert.Throws<InputException>(() => OptionTable.ApplyText(o, [new("learning-rate", "1")], "test")).Message);
        Assert.Contains("--epochs 0: expected 1 or more", Assert.Throws<InputException>(() => OptionTable.ApplyText(o, [new("epochs", "0")], "test")).Message);
        Assert.Contains("--momentum '-x': expected a number", Assert.Throws<InputException>(() => OptionTable.ApplyText(o, [new("momentum", "-x")], "test")).Message);
        Assert.Contains("--train-portion 1: expected more than 0 to 1 (exclusive)", Assert.Throws<InputException>(() => OptionTable.ApplyText(o, [new("train-portion", "1")], "test")).Message);
    }

    [Fact]
    public void The_pipeline_changes_a_profile_through_the_same_table()
    {
        var inputs = new PipelineInputs(TestPaths.DataRoot) { Settings = ["train.epochs=7", "search.seed=5", "train.crop-scale=0.5"], Seed = 4 };
        // The profile's own epochs (longer than the cpu preset's recipe), until --set changes them.
        var plain = PipelineProfile.Create("imagenet", new PipelineInputs(TestPaths.DataRoot)).Train;
        Assert.Equal((PipelineProfile.ImagenetteEpochs, 0.25), (plain.Epochs, plain.CropScaleMin));
        Assert.NotEqual(PipelineProfile.ImagenetteEpochs, TrainPresets.Create("cpu", NetworkKind.ImageNet64).Epochs);
        var p = PipelineProfile.Create("imagenet", inputs);
        Assert.Equal((7, 0.5, 5L), (p.Train.Epochs, p.Train.CropScaleMin, p.Search.Seed)); // --set comes after the pipeline's own --seed
        Assert.Contains("--set 'epochs=7': expected search.<key>=<value>", Assert.Throws<InputException>(() => PipelineProfile.Create("imagenet", inputs with { Settings = ["epochs=7"] })).Message);
        Assert.Contains("--set: train: unknown setting 'epoch'", Assert.Throws<InputException>(() => PipelineProfile.Create("imagenet", inputs with { Settings = ["train.epoch=7"] })).Message);
    }

    [Theory]
    [InlineData("search", "--seed", "abc", "--seed 'abc': expected a whole number")]
    [InlineData("search", "--max-images", "-5", "--max-images -5: expected 0 or more")]
    [InlineData("search", "--lr", "NaN", "--lr 'NaN': expected a number")]
    [InlineData("train", "--threads", "-3", "--threads -3: expected 0 to 1024")]
    [InlineData("train", "--image-size", "1", "--image-size 1: expected 32 to 4096")]
    public void A_bad_value_is_a_usage_error_before_any_work(string command, string option, string value, string message)
    {
        using var dir = new TempDir();
        string[] args = command == "search" ? ["search", option, value, "--out", dir["r"]] : ["train", "--genotype", KnownCells.Nb201, option, value, "--out", dir["r"]];
        var (code, _, err) = CliTests.Run(args);
        Assert.Equal(S2dApp.BadInput, code);
        Assert.Contains(message, err);
        Assert.DoesNotContain("System.", err);
        Assert.False(Directory.Exists(dir["r"]));
    }

    private static class KnownCells
    {
        public const string Nb201 = SearchToDeploy.Nas.Architectures.KnownGenotypes.Nb201Best;
    }
}
