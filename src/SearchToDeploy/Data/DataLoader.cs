using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using SearchToDeploy.Core;
using SearchToDeploy.Data.Transforms;

namespace SearchToDeploy.Data;

/// <summary>
/// Turns a dataset (or a subset of its indices) into batches of NCHW float32 images. The order of an epoch is a
/// seeded shuffle of (seed, epoch) and each image's augmentation draws from its own (seed, epoch, position)
/// generator, so the same seed gives the same batches whatever the number of workers, and an epoch can be
/// resumed at any batch. Workers build whole batches ahead of the consumer, in order, through bounded queues.
/// </summary>
public sealed class DataLoader
{
    private readonly IImageDataset _dataset;
    private readonly int[] _indices;
    private readonly IImageTransform _transform;
    private int _skipped;

    public DataLoader(IImageDataset dataset, IReadOnlyList<int>? indices, IImageTransform transform, LoaderOptions options)
    {
        if (options.BatchSize <= 0) throw new InputException($"batch size {options.BatchSize}: expected a positive number");
        if (options.Workers < 0) throw new InputException($"workers {options.Workers}: expected 0 or more");
        if (options.Ranks < 1 || options.Rank < 0 || options.Rank >= options.Ranks) throw new ArgumentOutOfRangeException(nameof(options), $"rank {options.Rank} of {options.Ranks}");
        if (options.Ranks > 1 && options.DropLast && options.BatchSize % options.Ranks != 0)
            throw new InputException($"batch size {options.BatchSize}: expected a multiple of the {options.Ranks} ranks (each rank takes an equal share of every batch)");
        _dataset = dataset;
        _indices = indices is null ? [.. Enumerable.Range(0, dataset.Count)] : [.. indices];
        _transform = transform;
        Options = options;
        if (_indices.Length == 0) throw new InputException($"{dataset.Source}: no images to load");
        if (options.DropLast && _indices.Length < options.BatchSize)
            throw new InputException($"{dataset.Source}: {_indices.Length} images is fewer than one batch of {options.BatchSize} (drop_last)");
    }

    public LoaderOptions Options { get; }
    public IImageDataset Dataset => _dataset;
    public int Count => _indices.Length;
    public int BatchesPerEpoch => Options.DropLast ? Count / Options.BatchSize : (Count + Options.BatchSize - 1) / Options.BatchSize;
    /// <summary>Images dropped so far because they could not be decoded (with <see cref="LoaderOptions.SkipUndecodable"/>).</summary>
    public int SkippedImages => _skipped;
    /// <summary>Told about every skipped image.</summary>
    public event Action<string>? Warning;

    /// <summary>The dataset indices of an epoch in the order they are served.</summary>
    public int[] Order(int epoch)
    {
        var order = (int[])_indices.Clone();
        if (Options.Shuffle)
        {
            var rng = Rng.For(Options.Seed, epoch, 0x5EED);
            rng.Shuffle(order.AsSpan());
        }
        return order;
    }

    /// <summary>The batches of <paramref name="epoch"/>, starting at batch <paramref name="startBatch"/> (for resume).</summary>
    public IEnumerable<HostBatch> Epoch(int epoch, int startBatch = 0)
    {
        int[] order = Order(epoch);
        int batches = BatchesPerEpoch;
        if (startBatch < 0 || startBatch > batches) throw new ArgumentOutOfRangeException(nameof(startBatch));
        if (Options.Workers == 0)
        {
            for (int b = startBatch; b < batches; b++) yield return Build(order, epoch, b);
            yield break;
        }

        int workers = Math.Min(Options.Workers, Math.Max(1, batches - startBatch));
        int capacity = Math.Max(1, Options.Prefetch / workers);
        using var cts = new CancellationTokenSource();
        var queues = new BlockingCollection<(HostBatch? Batch, ExceptionDispatchInfo? Error)>[workers];
        var threads = new Thread[workers];
        for (int w = 0; w < workers; w++)
        {
            var queue = queues[w] = new BlockingCollection<(HostBatch?, ExceptionDispatchInfo?)>(capacity);
            int first = startBatch + w;
            threads[w] = new Thread(() => Produce(queue, order, epoch, first, workers, batches, cts.Token))
            {
                IsBackground = true,
                Name = $"s2d-loader-{w}",
            };
            threads[w].Start();
        }
        try
        {
            for (int b = startBatch; b < batches; b++)
            {
                var (batch, error) = queues[(b - startBatch) % workers].Take();
                error?.Throw();
                yield return batch!;
            }
        }
        finally
        {
            cts.Cancel();
            foreach (var t in threads) t.Join();
            foreach (var q in queues) q.Dispose();
        }
    }

    private void Produce(BlockingCollection<(HostBatch?, ExceptionDispatchInfo?)> queue, int[] order, int epoch,
        int first, int stride, int batches, CancellationToken token)
    {
        try
        {
            for (int b = first; b < batches; b += stride)
            {
                HostBatch batch;
                try { batch = Build(order, epoch, b); }
                catch (Exception e) { queue.Add((null, ExceptionDispatchInfo.Capture(e)), token); return; }
                queue.Add((batch, null), token);
            }
        }
        catch (OperationCanceledException) { }
    }

    private HostBatch Build(int[] order, int epoch, int batch)
    {
        int first = batch * Options.BatchSize;
        int whole = Math.Min(Options.BatchSize, order.Length - first);
        // This rank's share of the batch; each image keeps its augmentation draw by its place in the whole batch.
        int start = first + (int)((long)Options.Rank * whole / Options.Ranks);
        int n = first + (int)((long)(Options.Rank + 1) * whole / Options.Ranks) - start;
        int c = 3, h = _transform.Height, w = _transform.Width, size = c * h * w;
        var images = System.Buffers.ArrayPool<float>.Shared.Rent(Math.Max(1, n) * size);
        var labels = new long[n];
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            int index = order[start + i];
            RgbImage image;
            try { image = _dataset.Load(index); }
            catch (ImageDecodeException e) when (Options.SkipUndecodable)
            {
                Interlocked.Increment(ref _skipped);
                Warning?.Invoke($"skipped undecodable image: {e.Message}");
                continue;
            }
            var rng = Rng.For(Options.Seed, epoch, start + i, 1);
            _transform.Apply(image, ref rng, images.AsSpan(kept * size, size));
            labels[kept] = _dataset.LabelOf(index);
            kept++;
        }
        if (kept < n) Array.Resize(ref labels, kept);
        return new HostBatch(images, labels, c, h, w) { Offset = start - first, Whole = whole };
    }
}
