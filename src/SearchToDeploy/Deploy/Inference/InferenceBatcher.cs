using System.Diagnostics;
using System.Threading.Channels;

namespace SearchToDeploy.Deploy.Inference;

/// <summary>
/// Dynamic batching: concurrent requests' preprocessed images wait in one bounded queue and are run together, up to
/// <see cref="BatchSettings.MaxBatch"/> images per ONNX Runtime run, the first of them waiting at most
/// <see cref="BatchSettings.MaxDelay"/> for others to join, and only while others are on their way (<see cref="Arrive"/>:
/// a lone request runs at once, so batching costs no latency under light load). A full queue refuses at once (<see cref="QueueFullException"/>:
/// a server answers 503) instead of growing. Disposing finishes every request already queued.
/// </summary>
public sealed class InferenceBatcher : IAsyncDisposable
{
    private readonly DeployedModel _model;
    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private int _queued, _arriving;

    public InferenceBatcher(DeployedModel model, BatchSettings settings)
    {
        settings = settings.For(model.Provider);
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

    /// <summary>
    /// Announces a request that will call <see cref="InferAsync"/> soon (it is being read or decoded): while any is
    /// announced, a batch waits up to the delay for it. Dispose the token when the request is queued or given up.
    /// </summary>
    public IDisposable Arrive()
    {
        Interlocked.Increment(ref _arriving);
        return new Arrival(this);
    }

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
                if (left <= 0 || Volatile.Read(ref _arriving) == 0) break;
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

    private sealed class Arrival(InferenceBatcher owner) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) Interlocked.Decrement(ref owner._arriving);
        }
    }

    private sealed record Request(float[] Images, int N, TaskCompletionSource<float[]> Done);
}
