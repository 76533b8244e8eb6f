namespace SearchToDeploy.Deploy.Inference;

/// <summary>
/// How <see cref="InferenceBatcher"/> groups requests: images per run (0: chosen by the execution provider, see
/// <see cref="For"/>), the longest wait for others, the queue's bound (images).
/// </summary>
public sealed record BatchSettings
{
    /// <param name="maxDelay">2 ms when not given; zero runs what is queued at once.</param>
    public BatchSettings(int maxBatch = 0, TimeSpan? maxDelay = null, int queueImages = 512)
    {
        MaxBatch = maxBatch;
        MaxDelay = maxDelay ?? TimeSpan.FromMilliseconds(2);
        QueueImages = queueImages;
    }

    public int MaxBatch { get; init; }
    public TimeSpan MaxDelay { get; init; }
    public int QueueImages { get; init; }

    /// <summary>Images per run on a GPU when the maximum batch is left to the provider.</summary>
    public const int GpuBatch = 32;

    /// <summary>
    /// The settings for a model on <paramref name="provider"/>: an automatic maximum batch becomes <see cref="GpuBatch"/> on
    /// CUDA (at most the queue's bound, which is kept as given) and 1 (no batching) on the CPU, where a request's decoding
    /// costs more than its share of a batched run and batching measured no gain (docs/benchmarks.md, "HTTP serving").
    /// </summary>
    public BatchSettings For(OnnxExecutionProvider provider) =>
        MaxBatch > 0 ? this : this with { MaxBatch = provider == OnnxExecutionProvider.Cuda ? Math.Clamp(QueueImages, 1, GpuBatch) : 1 };

    public void Validate()
    {
        if (MaxBatch < 0) throw new InputException($"--max-batch {MaxBatch}: expected 0 (by execution provider), 1 (no batching) or more images per run");
        if (MaxDelay < TimeSpan.Zero || MaxDelay > TimeSpan.FromSeconds(10)) throw new InputException($"--max-delay-ms {MaxDelay.TotalMilliseconds}: expected 0 to 10000");
        if (QueueImages < Math.Max(MaxBatch, 1)) throw new InputException($"--queue {QueueImages}: expected at least --max-batch ({MaxBatch}) images");
    }
}
