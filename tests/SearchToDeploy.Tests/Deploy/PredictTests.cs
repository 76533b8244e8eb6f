using System.Text.Json;
using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Inference;
using static SearchToDeploy.Tests.Cli.CliTests;

namespace SearchToDeploy.Tests.Deploy;

/// <summary><c>s2d predict</c>: batches give each image's own classes, files and folders are found, bad files get their row.</summary>
public sealed class PredictTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    /// <summary>Seven real CIFAR-10 test images as PNGs, three in a sub-folder, a file that is not an image, and a text file.</summary>
    private static TempDir Images()
    {
        var dir = new TempDir();
        Directory.CreateDirectory(dir["in/sub"]);
        var test = TrainedModelFixture.Cifar.Open(Split.Test);
        for (int i = 0; i < 7; i++) File.WriteAllBytes(dir[i < 4 ? $"in/{i}.png" : $"in/sub/{i}.png"], DeploymentTests.EncodePng(test.Load(i)));
        File.WriteAllText(dir["in/sub/broken.jpg"], "not a jpeg");
        File.WriteAllText(dir["in/notes.txt"], "not an image either, and not looked at");
        File.WriteAllText(dir["in/._0.png"], "macOS's resource fork of 0.png: hidden, no image, not looked at");
        return dir;
    }

    [Fact]
    public void Batched_predictions_equal_one_image_at_a_time_and_bad_files_get_their_error()
    {
        using var dir = Images();
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        var files = BatchPredictor.FindImages([dir["in"]]);
        Assert.Equal(8, files.Count);
        Assert.Equal(dir["in/0.png"], files[0]);
        Assert.DoesNotContain(files, f => f.EndsWith(".txt"));
        var predictions = BatchPredictor.Run(model, files, top: 3, batch: 3, workers: 2, TextWriter.Null).ToList();
        Assert.Equal(files, predictions.Select(p => p.Path));
        foreach (var p in predictions.Where(p => !p.Path.EndsWith("broken.jpg")))
        {
            Assert.Null(p.Error);
            var alone = model.Classify(ImageDecoder.Decode(File.ReadAllBytes(p.Path), p.Path), 3);
            Assert.Equal(alone.Select(a => a.Index), p.Top.Select(t => t.Index));
            for (int i = 0; i < 3; i++) Assert.Equal(alone[i].Probability, p.Top[i].Probability, 5);
        }
        var broken = Assert.Single(predictions, p => p.Error is not null);
        Assert.EndsWith("broken.jpg", broken.Path);
        Assert.Contains("cannot decode image", broken.Error);
        Assert.Empty(broken.Top);

        // A file too big to be an image the model takes is refused unread (a sparse file: nothing is written to disk).
        using (var big = File.Create(dir["big.jpg"])) big.SetLength(BatchPredictor.MaxFileBytes + 1);
        var refused = Assert.Single(BatchPredictor.Run(model, [dir["big.jpg"]], top: 1, batch: 1, workers: 1, TextWriter.Null));
        Assert.Contains("over the limit of 256 MB", refused.Error);

        Assert.Throws<InputException>(() => BatchPredictor.FindImages([dir["missing"]]));
        Directory.CreateDirectory(dir["empty"]);
        Assert.Contains("no images found", Assert.Throws<InputException>(() => BatchPredictor.FindImages([dir["empty"]])).Message);
        Assert.Throws<InputException>(() => BatchPredictor.Run(model, files, top: 0, batch: 8, workers: 1, TextWriter.Null));
    }

    [Fact]
    public void The_command_writes_csv_or_json_lines_and_exits_2_when_an_image_could_not_be_read()
    {
        using var dir = Images();
        var (code, output, err) = Run("predict", "--model", fixture.ModelPath, "--input", dir["in/0.png"], dir["in/sub"], "--top", "2");
        Assert.Equal(2, code);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal("path,index_1,label_1,probability_1,index_2,label_2,probability_2,error", lines[0]);
        Assert.Equal(6, lines.Length); // the header, 0.png, 4-6.png, broken.jpg
        Assert.StartsWith(dir["in/0.png"] + ",", lines[1]);
        Assert.Contains("cannot decode image", lines[5]);
        Assert.Contains("1 of 5 images could not be classified", err);

        var (ok, printed, _) = Run("predict", "--model", fixture.ModelPath, "--input", dir["in/0.png"], dir["in/1.png"], "--out", dir["p.jsonl"]);
        Assert.Equal(0, ok);
        Assert.Contains("wrote", printed);
        var rows = File.ReadAllLines(dir["p.jsonl"]).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, rows.Count);
        Assert.Equal(5, rows[0].GetProperty("top").GetArrayLength());
        Assert.False(rows[0].TryGetProperty("error", out _));

        Assert.Equal(2, Run("predict", "--model", fixture.ModelPath, "--input", dir["nothing"], "--out", dir["q.csv"]).Code);
        Assert.False(File.Exists(dir["q.csv"]));
        Assert.Equal(2, Run("predict", "--model", fixture.ModelPath, "--input", dir["in"], "--format", "xml").Code);
    }

    [Fact]
    public void Csv_fields_with_commas_or_quotes_are_quoted()
    {
        var out1 = new StringWriter();
        int failed = PredictionFile.Write([new Prediction("a,b.png", [(3, "chain saw, chainsaw", 0.5f)]), new Prediction("c.png", [], "c.png: \"bad\"")], out1, "csv", 1);
        Assert.Equal(1, failed);
        Assert.Equal(["path,index_1,label_1,probability_1,error", "\"a,b.png\",3,\"chain saw, chainsaw\",0.500000,", "c.png,,,,\"c.png: \"\"bad\"\"\""],
            out1.ToString().TrimEnd().Split(Environment.NewLine));
        Assert.Equal("jsonl", PredictionFile.Resolve(null, "x.JSONL"));
        Assert.Equal("csv", PredictionFile.Resolve(null, null));
    }
}
