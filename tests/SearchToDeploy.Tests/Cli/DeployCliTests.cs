using SearchToDeploy.Nas.Architectures;
using static SearchToDeploy.Tests.Cli.CliTests;

namespace SearchToDeploy.Tests.Cli;

/// <summary>model info, train, export, serve and pipeline on the command line: sizes, and bad input as exit code 2.</summary>
public sealed class DeployCliTests
{
    [Fact]
    public void Model_info_prints_the_published_size_and_enforces_the_multiply_add_limit()
    {
        var (code, output, _) = Run("model", "info", "--genotype", KnownGenotypes.DartsV2, "--network", "imagenet", "--max-madds", "600");
        Assert.Equal(0, code);
        Assert.Contains("parameters: 4,718,752", output);
        Assert.Contains("1000 classes", output);
        var (over, _, err) = Run("model", "info", "--genotype", KnownGenotypes.DartsV2, "--network", "imagenet", "--max-madds", "100");
        Assert.Equal(2, over);
        Assert.Contains("exceed --max-madds 100M", err);
    }

    [Theory]
    [InlineData("Genotype(normal=[('sep_conv_3x3', 0)], normal_concat=[2]")]
    [InlineData("|nor_conv_3x3~0|+|bogus_op~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")]
    [InlineData("runs/missing/genotype.json")]
    public void Train_with_a_bad_genotype_is_bad_input(string genotype)
    {
        using var dir = new TempDir();
        var (code, _, err) = Run("train", "--genotype", genotype, "--data-root", TestPaths.DataRoot, "--preset", "smoke", "--out", dir["run"]);
        Assert.Equal(2, code);
        Assert.StartsWith("error:", err);
    }

    [Fact]
    public void A_paper_imagenet_network_over_the_multiply_add_limit_fails_before_training()
    {
        using var dir = new TempDir();
        // The sample's 1,000 class folders serve as both splits.
        Directory.CreateDirectory(dir["imagenet"]);
        Directory.CreateSymbolicLink(dir["imagenet/train"], Path.Combine(TestPaths.ImageNetSample, "val"));
        Directory.CreateSymbolicLink(dir["imagenet/val"], Path.Combine(TestPaths.ImageNetSample, "val"));
        var (code, _, err) = Run("train", "--genotype", KnownGenotypes.DartsV2, "--dataset", "imagenet", "--data", dir["imagenet"],
            "--preset", "paper-imagenet", "--channels", "64", "--out", dir["run"]);
        Assert.Equal(2, code);
        Assert.Contains("over the limit of 600.0M", err);
    }

    [Fact]
    public void Export_validate_serve_and_pipeline_refuse_missing_inputs()
    {
        using var dir = new TempDir();
        Assert.Equal(2, Run("export", "--run", dir["nothing"], "--out", dir["m.onnx"]).Code);
        Assert.False(File.Exists(dir["m.onnx"]));
        Assert.Equal(2, Run("serve", "--model", dir["nothing.onnx"], "--urls", "http://192.0.2.1:5000").Code); // an address that cannot be bound: no hang on a regression
        Assert.Equal(2, Run("pipeline", "--stage", "train", "--profile", "smoke", "--runs", dir["runs"], "--data-root", TestPaths.DataRoot).Code);
        Assert.Equal(2, Run("pipeline", "--stage", "search", "--profile", "paper", "--runs", dir["runs"], "--data-root", TestPaths.DataRoot).Code);
        var (code, _, err) = Run("pipeline", "--stage", "deploy", "--profile", "smoke");
        Assert.Equal(2, code);
        Assert.Contains("expected one of search, train, export, validate, package", err);
    }
}
