using SearchToDeploy.Reporting;

namespace SearchToDeploy.Tests.Runs;

/// <summary><c>s2d report runs</c>: runs of one model over seeds are one row with their mean, sample deviation and range.</summary>
public sealed class RunsTableTests
{
    private static void WriteRun(string dir, string architecture, long seed, double top1, double top5, double seconds)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "metrics.json"), $$"""
            {"architecture": "{{architecture}}", "network": "cifar", "channels": 36, "layers": 20, "final_top1": {{top1}}, "final_top5": {{top5}},
             "parameters": 3300000, "multiply_adds": 540000000, "train_seconds": {{seconds}}, "epochs_done": 30}
            """);
        File.WriteAllText(Path.Combine(dir, "options.json"), $$"""{"Seed": {{seed}}}""");
    }

    [Fact]
    public void Seeds_of_one_model_are_one_row_with_mean_sample_deviation_and_range()
    {
        using var dir = new TempDir();
        WriteRun(dir["cellA-s0"], "A", 0, 90, 99, 600);
        WriteRun(dir["cellA-s1"], "A", 1, 92, 99.5, 1200);
        WriteRun(dir["cellB-s0"], "B", 0, 95, 99.8, 900);
        var runs = new[] { "cellA-s1", "cellB-s0", "cellA-s0" }.Select(n => RunsTable.Read(dir[n])).ToList();
        var lines = RunsTable.Markdown(runs).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length); // header, rule, two models
        Assert.StartsWith("| cellB | 0 | 95.00 (one seed) |", lines[2]); // the better model first; one seed has no spread
        // cellA: mean 91, sample sd sqrt(((90-91)^2 + (92-91)^2) / 1) = 1.41; seeds in order; 15 minutes on average.
        Assert.Equal("| cellA | 0, 1 | 91.00 ± 1.41 (90.00-92.00) | 99.25 ± 0.35 (99.00-99.50) | 3.300 | 540.0 | 30 | 15.0 |", lines[3]);
    }

    [Fact]
    public void Unfinished_runs_are_refused_and_pipeline_runs_are_named_by_their_run()
    {
        using var dir = new TempDir();
        WriteRun(dir["cellA-s0"], "A", 0, 90, 99, 600);
        File.WriteAllText(dir["cellA-s0/options.json"], """{"Seed": 0, "Epochs": 50}""");
        Assert.Contains("unfinished (30 of 50 epochs)", Assert.Throws<InputException>(() => RunsTable.Read(dir["cellA-s0"])).Message);
        WriteRun(dir["imagenet-s1/train"], "A", 1, 80, 97, 600);
        var run = RunsTable.Read(dir["imagenet-s1/train"]);
        Assert.Equal("imagenet", run.Label);
        // The same folder named twice is one run.
        Assert.Contains("| imagenet | 1 | 80.00 (one seed) |", RunsTable.Markdown([run, RunsTable.Read(dir["imagenet-s1/train/"])]));
    }

    [Fact]
    public void A_folder_without_training_metrics_is_bad_input_naming_the_file()
    {
        using var dir = new TempDir();
        Assert.Contains("no metrics.json", Assert.Throws<InputException>(() => RunsTable.Read(dir.Path)).Message);
        File.WriteAllText(dir["metrics.json"], """{"final_top1": 90}""");
        var e = Assert.Throws<InputException>(() => RunsTable.Read(dir.Path));
        Assert.Contains(dir["metrics.json"], e.Message);
        Assert.Contains("not the metrics.json s2d train writes", e.Message);
    }
}
