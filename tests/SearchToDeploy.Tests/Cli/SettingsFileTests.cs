using System.Text.Json.Nodes;

namespace SearchToDeploy.Tests.Cli;

/// <summary>--config settings files (JSON and YAML) and --print-config, for search, train and the pipeline.</summary>
public sealed class SettingsFileTests
{
    private static JsonObject Printed(params string[] args)
    {
        var (code, output, err) = CliTests.Run([.. args, "--data-root", TestPaths.DataRoot, "--print-config"]);
        Assert.True(code == 0, err);
        return JsonNode.Parse(output)!.AsObject();
    }

    [Fact]
    public void Search_reads_a_yaml_file_and_the_command_line_overrides_it()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["s.yaml"], "space: nas-bench-201\nmethod: rf-darts\nepochs: 7\nlr: 0.05\n# a comment\nchannels: 12\n");
        var o = Printed("search", "--config", dir["s.yaml"], "--lr", "0.2");
        Assert.Equal("nas-bench-201", (string?)o["space"]);
        Assert.Equal("rf-darts", (string?)o["method"]);
        Assert.Equal(7, (int)o["epochs"]!);
        Assert.Equal(12, (int)o["channels"]!);
        Assert.Equal(0.2, (double)o["lr"]!, 6);
    }

    [Fact]
    public void Printed_settings_read_back_to_the_same_settings()
    {
        using var dir = new TempDir();
        foreach (string[] args in new[]
                 {
                     new[] { "search", "--space", "s3", "--preset", "cpu", "--arch-lr", "0.003" }, ["pipeline", "--profile", "smoke", "--set", "train.epochs=3", "--run", "exp1"],
                     ["train", "--genotype", "darts-v2", "--dataset", "cifar100", "--coarse-labels", "--stop-after", "1", "--max-madds", "600"],
                 })
        {
            var first = Printed(args);
            File.WriteAllText(dir["c.json"], first.ToJsonString());
            var again = Printed(args[0], "--config", dir["c.json"]);
            Assert.Equal(first.ToJsonString(), again.ToJsonString());
        }
        Assert.Equal(0.003, (double)Printed("search", "--arch-lr", "0.003")["arch-lr"]!);
        var train = Printed("train", "--genotype", "darts-v2", "--dataset", "cifar100", "--coarse-labels", "--stop-after", "1");
        Assert.True((bool)train["coarse-labels"]!);
        Assert.Equal(1, (int)train["stop-after"]!);
        Assert.Equal("exp1", (string?)Printed("pipeline", "--profile", "smoke", "--run", "exp1")["run"]);
        // What to run: the whole chain unless a stage is given, so that the file alone repeats it.
        var chain = Printed("pipeline", "--profile", "smoke");
        Assert.Equal(("package", true), ((string?)chain["stage"], (bool)chain["through"]!));
        var one = Printed("pipeline", "--profile", "smoke", "--stage", "train");
        Assert.Equal(("train", false), ((string?)one["stage"], (bool)one["through"]!));
        // A file's "through" goes with its stage: a stage named on the command line runs alone.
        using var files = new TempDir();
        File.WriteAllText(files["c.json"], """{"profile": "smoke", "stage": "package", "through": true}""");
        Assert.True((bool)Printed("pipeline", "--config", files["c.json"])["through"]!);
        Assert.False((bool)Printed("pipeline", "--config", files["c.json"], "--stage", "export")["through"]!);
        Assert.True((bool)Printed("pipeline", "--config", files["c.json"], "--stage", "export", "--through")["through"]!);
        // Printing reads no data: a data root without the datasets still prints.
        using var empty = new TempDir();
        var (code, output, err) = CliTests.Run("pipeline", "--data-root", empty.Path, "--print-config");
        Assert.True(code == 0, err);
        Assert.Contains("\"profile\": \"imagenet\"", output);
    }

    [Fact]
    public void The_pipeline_command_line_overrides_the_search_and_train_settings_of_its_file()
    {
        using var dir = new TempDir();
        // What --print-config writes holds search.seed and both threads; switches given again win over it.
        File.WriteAllText(dir["p.yaml"], "profile: nb201\nsearch:\n  seed: 9\n  threads: 0\n  precision: fp32\ntrain:\n  threads: 0\n");
        var p = Printed("pipeline", "--config", dir["p.yaml"], "--seed", "3", "--threads", "1", "--precision", "bf16");
        Assert.Equal(3, (int)p["search"]!["seed"]!);
        Assert.Equal(1, (int)p["search"]!["threads"]!);
        Assert.Equal(1, (int)p["train"]!["threads"]!);
        Assert.Equal("bf16", (string?)p["search"]!["precision"]);
        // --set still has the last word.
        Assert.Equal(4, (int)Printed("pipeline", "--config", dir["p.yaml"], "--seed", "3", "--set", "search.seed=4")["search"]!["seed"]!);
        // The file's stage is read (it used to be accepted and ignored: "--stage: required").
        File.WriteAllText(dir["s.json"], """{"profile": "nb201", "stage": "deploy"}""");
        var (code, _, err) = CliTests.Run("pipeline", "--config", dir["s.json"], "--data-root", TestPaths.DataRoot, "--runs", dir["runs"], "--models", dir["models"]);
        Assert.Equal(2, code);
        Assert.Contains("deploy", err);
    }

    [Fact]
    public void Bad_print_formats_and_file_numbers_outside_the_command_lines_checks_are_bad_input()
    {
        var toml = CliTests.Run("search", "--data-root", TestPaths.DataRoot, "--print-config", "toml");
        Assert.Equal(2, toml.Code);
        Assert.Contains("expected json or yaml", toml.Err);
        using var dir = new TempDir();
        File.WriteAllText(dir["t.json"], """{"genotype": "darts-v2", "max-madds": 0}""");
        var madds = CliTests.Run("train", "--config", dir["t.json"], "--data-root", TestPaths.DataRoot, "--print-config");
        Assert.Equal(2, madds.Code);
        Assert.Contains("--max-madds", madds.Err);
    }

    [Fact]
    public void Train_and_pipeline_take_their_settings_from_the_file()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["t.json"], """{"genotype": "DARTS_V2", "dataset": "imagenette", "epochs": 4, "channels": 20}""");
        var t = Printed("train", "--config", dir["t.json"], "--epochs", "5");
        Assert.Equal(5, (int)t["epochs"]!);
        Assert.Equal(20, (int)t["channels"]!);
        Assert.Equal("imagenet-64", (string?)t["network"]);
        // The paper recipe on Imagenette: the 64-px network at 64 px (it took the preset's 224).
        var paper = Printed("train", "--genotype", "darts-v2", "--dataset", "imagenette", "--preset", "paper-imagenet");
        Assert.Equal("imagenet-64", (string?)paper["network"]);
        Assert.Equal(64, (int)paper["image-size"]!);
        Assert.Equal(224, (int)Printed("train", "--genotype", "darts-v2", "--dataset", "imagenet", "--preset", "paper-imagenet")["image-size"]!);

        File.WriteAllText(dir["p.yaml"], "profile: smoke\ngate-top1: 33\nsearch:\n  seed: 9\ntrain:\n  epochs: 6\n  lr: 0.02\n");
        var p = Printed("pipeline", "--config", dir["p.yaml"], "--set", "train.lr=0.03");
        Assert.Equal("smoke", (string?)p["profile"]);
        Assert.Equal(33, (double)p["gate-top1"]!);
        Assert.Equal(9, (int)p["search"]!["seed"]!);
        Assert.Equal(6, (int)p["train"]!["epochs"]!);
        Assert.Equal(0.03, (double)p["train"]!["lr"]!, 6);
        // The retraining's batch size is a setting like the others (it was refused as unknown).
        Assert.Equal(48, (int)Printed("pipeline", "--profile", "smoke", "--set", "train.batch-size=48")["train"]!["batch-size"]!);
    }

    [Theory]
    [InlineData("search", "s.json", """{"epoch": 3}""", "unknown setting 'epoch'")]
    [InlineData("search", "s.json", """{"epochs": "many"}""", "epochs")]
    [InlineData("search", "s.json", """{"epochs": [1, 2]}""", "is a list")]
    [InlineData("search", "s.json", "{\"epochs\": 3", "not valid JSON")]
    [InlineData("search", "s.yaml", "epochs: [3\n", "not valid YAML")]
    [InlineData("pipeline", "p.json", """{"profil": "smoke"}""", "unknown setting 'profil'")]
    [InlineData("pipeline", "p.json", """{"train": 3}""", "'train' must be an object")]
    [InlineData("pipeline", "p.json", """{"train": {"epohcs": 3}}""", "unknown setting 'epohcs'")]
    [InlineData("pipeline", "p.json", """{"force": "yes"}""", "expected true or false")]
    [InlineData("train", "t.json", """{"genotype": "darts-v2", "train": {"epochs": 3}}""", "'train' is an object")]
    [InlineData("train", "t.json", """{"genotype": "darts-v2", "image-size": "big"}""", "image-size")]
    [InlineData("train", "t.json", """{"genotype": "darts-v2", "coarse-labels": "yes"}""", "expected true or false")]
    [InlineData("search", "s.json", """{"lr": 1e400}""", "expected a finite number")]
    [InlineData("search", "s.yaml", "[epochs]: 3\n", "not a plain name")]
    public void A_bad_settings_file_is_bad_input_naming_the_file_and_setting(string command, string name, string text, string message)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir[name], text);
        var (code, _, err) = CliTests.Run(command, "--config", dir[name], "--data-root", TestPaths.DataRoot, "--print-config");
        Assert.Equal(2, code);
        Assert.Contains(name, err);
        Assert.Contains(message, err);
    }

    [Fact]
    public void A_missing_settings_file_and_a_missing_run_folder_are_named()
    {
        var missing = CliTests.Run("search", "--config", "/nonexistent/s.yaml");
        Assert.Equal(2, missing.Code);
        Assert.Contains("--config /nonexistent/s.yaml: file not found", missing.Err);
        var noOut = CliTests.Run("search", "--data-root", TestPaths.DataRoot);
        Assert.Equal(2, noOut.Code);
        Assert.Contains("--out: required", noOut.Err);
    }
}
