using System.Diagnostics;
using System.Threading.Channels;

namespace SearchToDeploy.Deploy.Inference;

/// <summary>
/// Dynamic batching: concurrent requests' preprocessed images wait in one bounded queue and are run together, up to
/// <see cref="BatchSettings.MaxBatch"/> images per ONNX Runtime run, the first of them waiting at most
/// <see cref="BatchSettings.MaxDelay"/> for others to join. A full queue refuses at once (<see cref="QueueFullException"/>:
/// a server answers 503) instead of growing. Disposing finishes every request already queued.
/// </summary>
public sealed class InferenceBatcher : IAsyncDisposable
{
    private readonly DeployedModel _model;
    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private int _queued;

    public InferenceBatcher(DeployedModel model, BatchSettings settings)
    {
        settings.Validate();
        _model = model;
        Settings = settings;
        _loop = Task.Run(Loop);
    }

    public BatchSettings Settings { get; }
    /// <summary>Images queued or being run now.</summary>
    public int QueuedImages => Volatile.Read(ref _queued);
    /// <summary>Told the number of images of each run (for a batch-size histogram).</summary>
    public event Action<int>? BatchRun;

    /// <summary>The logits [n, classes] of <paramref name="n"/> preprocessed images (NCHW floats), run with whatever else is queued.</summary>
    public Task<float[]> InferAsync(float[] images, int n)
    {
        if (n < 1 || images.Length != n * _model.ImageFloats) throw new ArgumentException($"{images.Length} floats is not {n} images of {_model.ImageFloats}");
        if (Interlocked.Add(ref _queued, n) > Settings.QueueImages)
        {
            Interlocked.Add(ref _queued, -n);
            throw new QueueFullException($"the queue holds {Settings.QueueImages} images already; retry shortly");
        }
        var request = new Request(images, n, new TaskCompletionSource<float[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(request))
        {
            Interlocked.Add(ref _queued, -n);
            throw new QueueFullException("the server is shutting down");
        }
        return request.Done.Task;
    }

    private async Task Loop()
    {
        var reader = _queue.Reader;
        var batch = new List<Request>();
        Request? carried = null;
        while (carried is not null || await reader.WaitToReadAsync())
        {
            batch.Clear();
            int images = 0;
            if (carried is null && !reader.TryRead(out carried)) continue;
            batch.Add(carried);
            images += carried.N;
            carried = null;
            long deadline = Stopwatch.GetTimestamp() + (long)(Settings.MaxDelay.TotalSeconds * Stopwatch.Frequency);
            while (images < Settings.MaxBatch)
            {
                if (reader.TryRead(out var next))
                {
                    if (images + next.N > Settings.MaxBatch) { carried = next; break; }
                    batch.Add(next);
                    images += next.N;
                    continue;
                }
                long left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0) break;
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
                try
                {
                    if (!await reader.WaitToReadAsync(wait.Token)) break;
                }
                catch (OperationCanceledException) { break; }
            }
            Run(batch, images);
        }
    }

    private void Run(List<Request> batch, int images)
    {
        try
        {
            int size = _model.ImageFloats;
            float[] input = batch.Count == 1 ? batch[0].Images : new float[images * size];
            if (batch.Count > 1)
            {
                int at = 0;
                foreach (var r in batch) { r.Images.CopyTo(input, at); at += r.Images.Length; }
            }
            var logits = _model.Logits(input, images);
            BatchRun?.Invoke(images);
            int classes = logits.Length / images, offset = 0;
            foreach (var r in batch)
            {
                r.Done.SetResult(logits.AsSpan(offset, r.N * classes).ToArray());
                offset += r.N * classes;
            }
        }
        catch (Exception e)
        {
            foreach (var r in batch) r.Done.TrySetException(e);
        }
        finally
        {
            Interlocked.Add(ref _queued, -images);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private sealed record Request(float[] Images, int N, TaskCompletionSource<float[]> Done);
}

/// <summary>How <see cref="InferenceBatcher"/> groups requests: images per run, the longest wait for others, the queue's bound (images).</summary>
public sealed record BatchSettings(int MaxBatch = 32, TimeSpan MaxDelay = default, int QueueImages = 512)
{
    public TimeSpan MaxDelay { get; init; } = MaxDelay == default ? TimeSpan.FromMilliseconds(2) : MaxDelay;

    public void Validate()
    {
        if (MaxBatch < 1) throw new InputException($"--max-batch {MaxBatch}: expected 1 (no batching) or more images per run");
        if (MaxDelay < TimeSpan.Zero || MaxDelay > TimeSpan.FromSeconds(10)) throw new InputException($"--max-delay-ms {MaxDelay.TotalMilliseconds}: expected 0 to 10000");
        if (QueueImages < MaxBatch) throw new InputException($"--queue {QueueImages}: expected at least --max-batch ({MaxBatch}) images");
    }
}

/// <summary>The batcher's queue is full (or closing): the request should be retried later (HTTP 503).</summary>
public sealed class QueueFullException(string message) : Exception(message);
