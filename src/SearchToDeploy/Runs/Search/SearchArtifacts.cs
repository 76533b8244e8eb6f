using System.Globalization;
using System.Text;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Reporting;
using SkiaSharp;

namespace SearchToDeploy.Runs.Search;

/// <summary>
/// The files a person reads in a search run folder, regenerated from the history after every checkpoint so they
/// always agree with it: metrics.csv, alphas.csv, TensorBoard events, alphas_&lt;cell&gt;.png (how each edge's op
/// weights evolve), curves.png, and the drawings of the current cells.
/// </summary>
public static class SearchArtifacts
{
    public static void Write(string dir, SearchOptions o, IReadOnlyList<EpochRecord> history, Architecture current)
    {
        var space = o.SearchSpace;
        var firmness = history.Select((_, i) => Firmness.Of(o, history, i)).ToList();
        WriteMetricsCsv(Path.Combine(dir, SearchRunFolder.MetricsCsv), history, firmness);
        WriteAlphasCsv(Path.Combine(dir, SearchRunFolder.AlphasCsv), space, history);
        TensorBoardEvents.Write(Path.Combine(dir, TensorBoardEvents.FileName), BoardScalars(history, firmness));
        foreach (var cell in history[^1].Weights.Keys)
            AlphaPlot(Path.Combine(dir, SearchRunFolder.AlphaPlot(cell)), space.EdgesOf(cell == "reduce"), history, cell, space);
        CurvesPlot(Path.Combine(dir, SearchRunFolder.Curves), history);
        CellDrawings.Draw(dir, current);
    }

    private static string F(double v) => double.IsNaN(v) ? "" : v.ToString("0.######", CultureInfo.InvariantCulture);

    private static void WriteMetricsCsv(string path, IReadOnlyList<EpochRecord> history, IReadOnlyList<Firmness?> firmness)
    {
        var nbCols = history.SelectMany(h => h.Nb201?.Keys ?? Enumerable.Empty<string>()).Distinct().ToList();
        var sb = new StringBuilder("epoch,lr,train_loss,train_acc,arch_loss,valid_loss,valid_acc,seconds,images_per_s");
        foreach (var c in nbCols) sb.Append(",nb201_").Append(c);
        sb.AppendLine(",weakest_lead_pct,narrow_choices,same_cell_epochs,genotype");
        foreach (var (h, f) in history.Zip(firmness))
        {
            sb.Append(CultureInfo.InvariantCulture, $"{h.Epoch},{F(h.LearningRate)},{F(h.TrainLoss)},{F(h.TrainAccuracy)},{F(h.ArchLoss)},{F(h.ValidLoss)},{F(h.ValidAccuracy)},{F(h.Seconds)},{F(h.ImagesPerSecond)}");
            foreach (var c in nbCols) sb.Append(',').Append(h.Nb201?.GetValueOrDefault(c) is { } v ? F(v) : "");
            sb.Append(CultureInfo.InvariantCulture, $",{(f is null ? "" : F(100 * f.Weakest.Lead))},{f?.Narrow},{f?.SameCellEpochs}");
            sb.Append(",\"").Append(h.Genotype.Replace("\"", "\"\"")).AppendLine("\"");
        }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static void WriteAlphasCsv(string path, SearchSpace space, IReadOnlyList<EpochRecord> history)
    {
        var sb = new StringBuilder("epoch,cell,edge,op,weight\n");
        foreach (var h in history)
            foreach (var (cell, w) in h.Weights)
                for (int e = 0; e < w.Ops.Length; e++)
                {
                    for (int k = 0; k < w.Ops[e].Length; k++)
                        sb.Append(CultureInfo.InvariantCulture, $"{h.Epoch},{cell},{e},{space.EdgesOf(cell == "reduce")[e][k]},{F(w.Ops[e][k])}\n");
                    if (w.Edges is not null) sb.Append(CultureInfo.InvariantCulture, $"{h.Epoch},{cell},{e},(edge beta),{F(w.Edges[e])}\n");
                }
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    private static IEnumerable<Scalar> BoardScalars(IReadOnlyList<EpochRecord> history, IReadOnlyList<Firmness?> firmness)
    {
        foreach (var (h, f) in history.Zip(firmness))
        {
            yield return new("train/loss", h.Epoch, h.TrainLoss, h.WallTime);
            yield return new("train/accuracy", h.Epoch, h.TrainAccuracy, h.WallTime);
            yield return new("valid/loss", h.Epoch, h.ValidLoss, h.WallTime);
            yield return new("valid/accuracy", h.Epoch, h.ValidAccuracy, h.WallTime);
            yield return new("lr", h.Epoch, h.LearningRate, h.WallTime);
            yield return new("images_per_second", h.Epoch, h.ImagesPerSecond, h.WallTime);
            if (!double.IsNaN(h.ArchLoss)) yield return new("arch/loss", h.Epoch, h.ArchLoss, h.WallTime);
            if (f is not null) yield return new("arch/weakest_lead_percent", h.Epoch, 100 * f.Weakest.Lead, h.WallTime);
            if (h.Nb201 is not null)
                foreach (var (k, v) in h.Nb201)
                    if (v is not null) yield return new($"nb201/{k}", h.Epoch, v.Value, h.WallTime);
            foreach (var (cell, w) in h.Weights)
                for (int e = 0; e < w.Ops.Length; e++)
                {
                    for (int k = 0; k < w.Ops[e].Length; k++)
                        yield return new($"alpha/{cell}/edge{e:00}/{k}", h.Epoch, w.Ops[e][k], h.WallTime);
                    if (w.Edges is not null) yield return new($"beta/{cell}/edge{e:00}", h.Epoch, w.Edges[e], h.WallTime);
                }
        }
    }

    /// <summary>One small panel per edge: each candidate's weight over the epochs.</summary>
    private static void AlphaPlot(string path, IReadOnlyList<IReadOnlyList<string>> edgeOps, IReadOnlyList<EpochRecord> history, string cell, SearchSpace space)
    {
        int edges = edgeOps.Count, cols = edges <= 6 ? 3 : 4, rows = (edges + cols - 1) / cols;
        const int pw = 380, ph = 260;
        using var surface = SKSurface.Create(new SKImageInfo(cols * pw, rows * ph));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        double[] epochs = [.. history.Select(h => (double)h.Epoch)];
        for (int e = 0; e < edges; e++)
        {
            var plot = new ScottPlot.Plot();
            for (int k = 0; k < edgeOps[e].Count; k++)
            {
                double[] ys = [.. history.Select(h => h.Weights[cell].Ops[e][k])];
                var line = epochs.Length == 1 ? (ScottPlot.IPlottable)plot.Add.ScatterPoints(epochs, ys) : plot.Add.Scatter(epochs, ys);
                if (line is ScottPlot.Plottables.Scatter s) { s.LegendText = edgeOps[e][k]; s.MarkerSize = 3; }
            }
            plot.Title(space.Kind.EdgeTitle(e), size: 12);
            plot.XLabel("epoch", size: 11);
            if (history[^1].Weights[cell].Edges is not null)
            {
                var beta = plot.Add.Scatter(epochs, [.. history.Select(h => h.Weights[cell].Edges![e])]);
                beta.LegendText = "edge weight (beta)";
                beta.LinePattern = ScottPlot.LinePattern.Dashed;
                beta.Color = ScottPlot.Colors.Gray;
                beta.MarkerSize = epochs.Length == 1 ? 5 : 0; // one epoch: a point, as the op weights are drawn
            }
            // The op weights and, where drawn, β (which starts at one over the node's inputs, above most op weights).
            double top = history.Max(h => Math.Max(h.Weights[cell].Ops[e].Max(), h.Weights[cell].Edges is { } b ? b[e] : 0));
            plot.Axes.SetLimitsY(0, Math.Min(1.05, Math.Max(0.3, top * 1.15)));
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            if (e == 0) { plot.ShowLegend(ScottPlot.Alignment.UpperLeft); plot.Legend.FontSize = 9; }
            else plot.HideLegend();
            PlotFonts.Apply(plot);
            var png = plot.GetImageBytes(pw, ph, ScottPlot.ImageFormat.Png);
            using var bmp = SKBitmap.Decode(png);
            { using var img = SKImage.FromBitmap(bmp); canvas.DrawImage(img, (e % cols) * pw, (e / cols) * ph, SKSamplingOptions.Default); }
        }
        LineCharts.SavePng(surface, path);
    }


    private static void CurvesPlot(string path, IReadOnlyList<EpochRecord> history)
    {
        double[] x = [.. history.Select(h => (double)h.Epoch)];
        var acc = new List<Series>
        {
            new("train accuracy %", x, [.. history.Select(h => h.TrainAccuracy)]),
            new("valid accuracy %", x, [.. history.Select(h => h.ValidAccuracy)]),
        };
        if (history.Any(h => h.Nb201?.GetValueOrDefault("cifar10_test") is not null))
            acc.Add(new("NB201 CIFAR-10 test % of the cell", x, [.. history.Select(h => h.Nb201?.GetValueOrDefault("cifar10_test") ?? double.NaN)]));
        LineCharts.Save(path,
        [
            new Panel("loss", [new("train loss", x, [.. history.Select(h => h.TrainLoss)]), new("valid loss", x, [.. history.Select(h => h.ValidLoss)])]),
            new Panel("accuracy", acc, Legend: ScottPlot.Alignment.LowerRight),
        ]);
    }
}
