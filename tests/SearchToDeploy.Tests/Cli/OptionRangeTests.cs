namespace SearchToDeploy.Tests.Cli;

/// <summary>Out-of-range numbers on every entry point: exit code 2 and a message naming the option, before anything runs.</summary>
public sealed class OptionRangeTests
{
    [Theory]
    [InlineData("validate --model m.onnx --dataset cifar10 --gate-top1 NaN", "--gate-top1 NaN: expected a percentage from 0 to 100")]
    [InlineData("validate --model m.onnx --dataset cifar10 --gate-top1 101", "--gate-top1 101: expected a percentage")]
    [InlineData("validate --model m.onnx --dataset cifar10 --gate-top5 -1", "--gate-top5 -1: expected a percentage")]
    [InlineData("validate --model m.onnx --dataset cifar10 --max-images -5", "--max-images -5: expected 0 (all) or more images")]
    [InlineData("validate --model m.onnx --dataset cifar10 --threads -2", "--threads -2: expected 0 (all cores) or more")]
    [InlineData("validate --model m.onnx --dataset cifar10 --batch 0", "--batch 0: expected a batch size of 1 or more")]
    [InlineData("model info --genotype darts-v2 --classes 0", "--classes 0: expected 2 or more classes")]
    [InlineData("model info --genotype darts-v2 --channels -1", "--channels -1: expected 1 to 4096 channels")]
    [InlineData("model info --genotype darts-v2 --image-size 3", "--image-size 3: expected 16 to 4096 pixels")]
    [InlineData("model info --genotype darts-v2 --network imagenet --image-size 16", "the imagenet network does not fit 16x16 inputs")]
    [InlineData("export --run r --out m.onnx --parity-images -1", "--parity-images -1: expected 0 (none) or more images")]
    [InlineData("serve --model m.onnx --max-bytes 0", "--max-bytes 0: expected a positive number of bytes")]
    [InlineData("serve --model m.onnx --threads -1", "--threads -1: expected 0 (all cores) or more")]
    [InlineData("pipeline --stage search --gate-top1 200", "--gate-top1 200: expected a percentage")]
    [InlineData("pipeline --stage search --gate-top1 0.77", "--gate-top1 0.77: gates are percentages (77 means 77%), and 0.77% passes almost any model; give 77 if 0.77 was a fraction")]
    [InlineData("pipeline --stage search --threads -3", "--threads -3: expected 0 (all cores) or more")]
    [InlineData("pipeline --stage search --ranks 0", "--ranks 0: expected 1 or more processes")]
    [InlineData("train --genotype darts-v2 --batch-size 0 --out r", "--batch-size 0: expected a batch size of 1 or more")]
    [InlineData("train --genotype darts-v2 --max-madds -600 --out r", "--max-madds -600: expected a positive number of millions")]
    [InlineData("sweep --out s --jobs 0", "--jobs 0: expected 1 or more searches at a time")]
    [InlineData("bench train --steps 0", "--steps 0: expected 1 or more steps")]
    [InlineData("bench search --steps -1", "--steps -1: expected 0 (memory only) or more steps")]
    [InlineData("bench serve --image x.jpg --concurrency 0", "--concurrency 0: expected 1 or more clients")]
    [InlineData("mpi check --batch 0", "--batch 0: expected a batch size of 1 or more")]
    public void An_out_of_range_number_is_bad_input_naming_the_option(string command, string message) =>
        CliTests.AssertBadInputWritingNothing(command, message);

    [Fact]
    public void A_pipeline_settings_file_is_held_to_the_same_ranges()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["p.json"], """{"gate-top5": 150}""");
        var (code, _, err) = CliTests.Run("pipeline", "--config", dir["p.json"], "--print-config");
        Assert.Equal(2, code);
        Assert.Contains("--gate-top5 150: expected a percentage from 0 to 100", err);
    }
}
