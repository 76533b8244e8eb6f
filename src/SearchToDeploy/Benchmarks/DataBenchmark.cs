using System.Diagnostics;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Transforms;
using TorchSharp;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// <c>s2d bench data</c>: images/s of the CIFAR training pipeline (crop + flip + cutout + normalise + batch + tensor)
/// and of the ImageFolder pipeline (JPEG decode + random-resized crop 224 + flip + batch + tensor), at several
/// worker counts, measured in one process so the ratios are comparable.
/// </summary>
public static class DataBenchmark
{
    public static BenchTable Run(IImageDataset cifarTrain, IImageDataset? folder, int[] workerCounts, double seconds, TextWriter log)
    {
        var table = new BenchTable($"Data pipelines ({Environment.ProcessorCount} cores)", "images/s", "ms/batch");
        foreach (int w in workerCounts)
        {
            var loader = new DataLoader(cifarTrain, null, CifarTransform.Train(Normalization.Cifar10, cutout: 16),
                new LoaderOptions(64, Shuffle: true, Seed: 1, DropLast: true, Workers: w, Prefetch: 8));
            var (rate, ms) = Measure(loader, seconds);
            log.WriteLine($"cifar train pipeline, {w} worker(s): {rate:N0} images/s");
            table.Add("CIFAR-10 train (crop 32 pad 4, flip, cutout 16, normalise)", $"batch 64, {w} worker(s)", ("images/s", rate), ("ms/batch", ms));
        }
        if (folder is not null)
        {
            foreach (int w in workerCounts)
            {
                var loader = new DataLoader(folder, null, new ImageNetTrainTransform(Normalization.ImageNet, 224, ColorJitter.None),
                    new LoaderOptions(32, Shuffle: true, Seed: 1, DropLast: true, Workers: w, Prefetch: 4));
                var (rate, ms) = Measure(loader, seconds);
                log.WriteLine($"imagefolder pipeline, {w} worker(s): {rate:N0} images/s");
                table.Add("ImageFolder train (JPEG decode, random-resized crop 224, flip)", $"batch 32, {w} worker(s)", ("images/s", rate), ("ms/batch", ms));
            }
            var (decode, resample) = Breakdown(folder, seconds / 2);
            table.Add("  of which: JPEG decode to RGB", "1 thread", ("images/s", decode), ("ms/batch", 32 * 1000 / decode));
            table.Add("  of which: random-resized crop 224 + flip + normalise", "1 thread", ("images/s", resample), ("ms/batch", 32 * 1000 / resample));
            var jitter = new DataLoader(folder, null, new ImageNetTrainTransform(Normalization.ImageNet, 224, new ColorJitter(0.4f, 0.4f, 0.4f, 0.2f)),
                new LoaderOptions(32, Shuffle: true, Seed: 1, DropLast: true, Workers: workerCounts.Max(), Prefetch: 4));
            var (jr, jms) = Measure(jitter, seconds);
            table.Add("ImageFolder train + colour jitter 0.4/0.4/0.4, hue 0.2", $"batch 32, {workerCounts.Max()} worker(s)", ("images/s", jr), ("ms/batch", jms));
        }
        return table;
    }

    /// <summary>Single-thread rates of decoding alone and of the transform alone (on pre-decoded images).</summary>
    private static (double Decode, double Transform) Breakdown(IImageDataset folder, double seconds)
    {
        var watch = Stopwatch.StartNew();
        int n = 0;
        var decoded = new List<RgbImage>();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            var img = folder.Load(n % folder.Count);
            if (decoded.Count < 64) decoded.Add(img);
            n++;
        }
        double decodeRate = n / watch.Elapsed.TotalSeconds;
        var t = new ImageNetTrainTransform(Normalization.ImageNet, 224, ColorJitter.None);
        var chw = new float[3 * 224 * 224];
        watch.Restart();
        int m = 0;
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            var rng = SearchToDeploy.Core.Rng.For(1, m);
            t.Apply(decoded[m % decoded.Count], ref rng, chw);
            m++;
        }
        return (decodeRate, m / watch.Elapsed.TotalSeconds);
    }

    /// <summary>Consumes batches (turning each into tensors, as training does) for about <paramref name="seconds"/>.</summary>
    private static (double ImagesPerSecond, double MsPerBatch) Measure(DataLoader loader, double seconds)
    {
        // Warm up: first batch pays for thread start and JIT.
        foreach (var b in loader.Epoch(1000)) { using var s = torch.NewDisposeScope(); b.ToTensors(); b.Dispose(); break; }
        var watch = Stopwatch.StartNew();
        long images = 0; int batches = 0; int epoch = 0;
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            foreach (var b in loader.Epoch(epoch++))
            {
                using (torch.NewDisposeScope()) b.ToTensors();
                images += b.Count; batches++;
                b.Dispose();
                if (watch.Elapsed.TotalSeconds >= seconds) break;
            }
        }
        double t = watch.Elapsed.TotalSeconds;
        return (images / t, 1000 * t / batches);
    }
}
