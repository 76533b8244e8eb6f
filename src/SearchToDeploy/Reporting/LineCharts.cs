using ScottPlot;
using SearchToDeploy.Core.Io;
using SkiaSharp;

namespace SearchToDeploy.Reporting;

/// <summary>Line-chart panels side by side in one PNG (loss and accuracy curves of searches and trainings).</summary>
public static class LineCharts
{
    public static void Save(string path, IReadOnlyList<Panel> panels, int panelWidth = 560, int panelHeight = 380)
    {
        using var surface = SKSurface.Create(new SKImageInfo(panels.Count * panelWidth, panelHeight));
        surface.Canvas.Clear(SKColors.White);
        for (int i = 0; i < panels.Count; i++)
        {
            var plot = new Plot();
            foreach (var line in panels[i].Lines)
            {
                var keep = Enumerable.Range(0, line.X.Length).Where(k => double.IsFinite(line.Y[k])).ToArray(); // NaN and infinities: not drawable, they break the scale
                if (keep.Length == 0) continue;
                var s = plot.Add.Scatter(keep.Select(k => line.X[k]).ToArray(), keep.Select(k => line.Y[k]).ToArray());
                s.LegendText = line.Label;
                s.MarkerSize = 3;
            }
            plot.Title(panels[i].Title);
            plot.XLabel(panels[i].XLabel);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.ShowLegend(panels[i].Legend);
            PlotFonts.Apply(plot);
            using var bmp = SKBitmap.Decode(plot.GetImageBytes(panelWidth, panelHeight, ImageFormat.Png));
            using var img = SKImage.FromBitmap(bmp);
            surface.Canvas.DrawImage(img, i * panelWidth, 0, SKSamplingOptions.Default);
        }
        SavePng(surface, path);
    }

    public static void SavePng(SKSurface surface, string path)
    {
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, data.AsSpan());
    }
}
