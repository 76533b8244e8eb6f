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
        foreach (string[] args in new[] { new[] { "search", "--space", "s3", "--preset", "cpu", "--arch-lr", "0.003" }, ["pipeline", "--profile", "smoke", "--set", "train.epochs=3"] })
        {
            var first = Printed(args);
            File.WriteAllText(dir["c.json"], first.ToJsonString());
            var again = Printed(args[0], "--config", dir["c.json"]);
            Assert.Equal(first.ToJsonString(), again.ToJsonString());
        }
        Assert.Equal(0.003, (double)Printed("search", "--arch-lr", "0.003")["arch-lr"]!);
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

        File.WriteAllText(dir["p.yaml"], "profile: smoke\ngate-top1: 33\nsearch:\n  seed: 9\ntrain:\n  epochs: 6\n  lr: 0.02\n");
        var p = Printed("pipeline", "--config", dir["p.yaml"], "--set", "train.lr=0.03");
        Assert.Equal("smoke", (string?)p["profile"]);
        Assert.Equal(33, (double)p["gate-top1"]!);
        Assert.Equal(9, (int)p["search"]!["seed"]!);
        Assert.Equal(6, (int)p["train"]!["epochs"]!);
        Assert.Equal(0.03, (double)p["train"]!["lr"]!, 6);
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
