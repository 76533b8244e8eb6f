using System.Globalization;
using System.Text;
using System.Text.Json;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Reporting;

namespace SearchToDeploy.Runs.Training;

/// <summary>
/// The files a person reads in a training run folder, regenerated after every checkpoint: metrics.csv, TensorBoard
/// events, curves.png (loss, top-1/top-5, learning rate), metrics.json (final and best top-1/top-5, parameters,
/// multiply-adds) and the drawings of the cell.
/// </summary>
public static class TrainArtifacts
{

    public static void Write(string dir, TrainHeader header, ModelSize size, IReadOnlyList<TrainRecord> history)
    {
        var inv = CultureInfo.InvariantCulture;
        var csv = new StringBuilder("epoch,lr,drop_path,train_loss,train_top1,valid_loss,valid_top1,valid_top5,seconds,images_per_s\n");
        foreach (var h in history)
            csv.Append(inv, $"{h.Epoch},{h.LearningRate:0.########},{h.DropPath:0.####},{h.TrainLoss:0.######},{h.TrainTop1:0.####},{h.ValidLoss:0.######},{h.ValidTop1:0.####},{h.ValidTop5:0.####},{h.Seconds:0.###},{h.ImagesPerSecond:0.##}\n");
        AtomicFile.WriteAllText(Path.Combine(dir, TrainRunFolder.MetricsCsv), csv.ToString());
        TensorBoardEvents.Write(Path.Combine(dir, TensorBoardEvents.FileName), history.SelectMany(h => new Scalar[]
        {
            new("train/loss", h.Epoch, h.TrainLoss, h.WallTime), new("train/top1", h.Epoch, h.TrainTop1, h.WallTime),
            new("valid/loss", h.Epoch, h.ValidLoss, h.WallTime), new("valid/top1", h.Epoch, h.ValidTop1, h.WallTime),
            new("valid/top5", h.Epoch, h.ValidTop5, h.WallTime), new("lr", h.Epoch, h.LearningRate, h.WallTime),
            new("images_per_second", h.Epoch, h.ImagesPerSecond, h.WallTime),
        }));
        double[] x = [.. history.Select(h => (double)h.Epoch)];
        LineCharts.Save(Path.Combine(dir, TrainRunFolder.Curves),
        [
            new Panel("loss", [new("train loss", x, [.. history.Select(h => h.TrainLoss)]), new("valid loss", x, [.. history.Select(h => h.ValidLoss)])]),
            new Panel("accuracy %", [new("train top-1", x, [.. history.Select(h => h.TrainTop1)]), new("valid top-1", x, [.. history.Select(h => h.ValidTop1)]),
                new("valid top-5", x, [.. history.Select(h => h.ValidTop5)])], Legend: ScottPlot.Alignment.LowerRight),
            new Panel("learning rate", [new("lr", x, [.. history.Select(h => h.LearningRate)])]),
        ], panelWidth: 480);
        var best = history.MaxBy(h => h.ValidTop1)!;
        var metrics = new Dictionary<string, object?>
        {
            ["architecture"] = header.Architecture,
            ["space"] = header.Space,
            ["network"] = RetrainNetwork.KindName(header.Network),
            ["channels"] = header.Channels,
            ["layers"] = header.Layers,
            ["dataset"] = header.Dataset,
            ["classes"] = header.Classes.Count,
            ["input_size"] = size.InputSize,
            ["parameters"] = size.Parameters,
            ["auxiliary_parameters"] = size.AuxiliaryParameters,
            ["multiply_adds"] = size.MultiplyAdds,
            ["epochs_done"] = history.Count,
            ["final_top1"] = history[^1].ValidTop1,
            ["final_top5"] = history[^1].ValidTop5,
            ["best_top1"] = best.ValidTop1,
            ["best_top5"] = best.ValidTop5,
            ["best_epoch"] = best.Epoch,
            ["train_seconds"] = Math.Round(history.Sum(h => h.Seconds), 1),
            ["train_images_per_second"] = Math.Round(history.Average(h => h.ImagesPerSecond), 1),
        };
        AtomicFile.WriteAllText(Path.Combine(dir, TrainRunFolder.MetricsJson), JsonSerializer.Serialize(metrics, TrainHeader.Json) + "\n");
    }
}
