using System.Diagnostics;
using System.Threading.Channels;

namespace SearchToDeploy.Deploy.Inference;

/// <summary>
/// Dynamic batching: concurrent requests' preprocessed images wait in one bounded queue and are run together, up to
/// <see cref="BatchSettings.MaxBatch"/> images per ONNX Runtime run, the first of them waiting at most
/// <see cref="BatchSettings.MaxDelay"/> for others to join, and only while others are on their way (<see cref="Arrive"/>:
/// a lone request runs at once, so batching costs no latency under light load). A request of more images than the maximum
/// batch is run in parts of at most that many. A full queue refuses at once (<see cref="QueueFullException"/>: a server
/// answers 503) instead of growing. A request cancelled while it waits (its client went away) is dropped, not run.
/// Disposing finishes every request already queued.
/// </summary>
public sealed class InferenceBatcher : IAsyncDisposable
{
    private readonly DeployedModel _model;
    private readonly Channel<Request> _queue = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private int _queued, _arriving;
    /// <summary>Set while a batch waits for announced requests; completed when none is announced any more.</summary>
    private TaskCompletionSource? _noneArriving;

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

    /// <summary>
    /// The logits [n, classes] of <paramref name="n"/> preprocessed images (NCHW floats), run with whatever else is
    /// queued, in parts of at most <see cref="BatchSettings.MaxBatch"/> images. Cancelling drops the images not yet run.
    /// </summary>
    public Task<float[]> InferAsync(float[] images, int n, CancellationToken cancel = default)
    {
        if (n < 1 || images.Length != n * _model.ImageFloats) throw new ArgumentException($"{images.Length} floats is not {n} images of {_model.ImageFloats}");
        if (Interlocked.Add(ref _queued, n) > Settings.QueueImages)
        {
            Interlocked.Add(ref _queued, -n);
            throw new QueueFullException($"the queue holds {Settings.QueueImages} images already; retry shortly");
        }
        int max = Settings.MaxBatch, size = _model.ImageFloats;
        var parts = new List<Request>();
        for (int at = 0; at < n; at += max)
        {
            int m = Math.Min(max, n - at);
            var part = new Request(m == n ? images : images.AsSpan(at * size, m * size).ToArray(), m);
            // Before it is queued: a cancelled part is dropped by the loop (it gives back its images), never run.
            if (cancel.CanBeCanceled) part.Registration = cancel.Register(() => part.Done.TrySetCanceled(cancel));
            parts.Add(part);
        }
        for (int i = 0; i < parts.Count; i++)
            if (!_queue.Writer.TryWrite(parts[i]))
            {
                foreach (var p in parts.Skip(i)) p.Registration.Dispose();
                Interlocked.Add(ref _queued, -parts.Skip(i).Sum(p => p.N)); // the parts already queued are run and given back by the loop
                throw new QueueFullException("the server is shutting down");
            }
        return parts.Count == 1 ? parts[0].Done.Task : Joined(parts);
    }

    private static async Task<float[]> Joined(List<Request> parts)
    {
        var logits = await Task.WhenAll(parts.Select(p => p.Done.Task));
        return [.. logits.SelectMany(l => l)];
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
            if (carried is null && !TryReadLive(reader, out carried)) continue;
            batch.Add(carried!);
            images += carried!.N;
            carried = null;
            long deadline = Stopwatch.GetTimestamp() + (long)(Settings.MaxDelay.TotalSeconds * Stopwatch.Frequency);
            while (images < Settings.MaxBatch)
            {
                if (TryReadLive(reader, out var next))
                {
                    if (images + next!.N > Settings.MaxBatch) { carried = next; break; }
                    batch.Add(next);
                    images += next.N;
                    continue;
                }
                long left = deadline - Stopwatch.GetTimestamp();
                if (left <= 0 || !await WaitForArrivals(reader, TimeSpan.FromSeconds((double)left / Stopwatch.Frequency))) break;
            }
            Run(batch, images);
        }
    }

    /// <summary>The next queued request that is still wanted; cancelled ones are given back to the queue's bound.</summary>
    private bool TryReadLive(ChannelReader<Request> reader, out Request? request)
    {
        while (reader.TryRead(out request))
        {
            if (!request.Done.Task.IsCompleted) return true;
            request.Registration.Dispose();
            Interlocked.Add(ref _queued, -request.N);
        }
        return false;
    }

    /// <summary>
    /// Waits until a request is queued (true), or the time is up or no request is announced any more (false): the batch
    /// runs as soon as nothing it could wait for is on its way.
    /// </summary>
    private async Task<bool> WaitForArrivals(ChannelReader<Request> reader, TimeSpan left)
    {
        var none = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _noneArriving, none); // a full fence: either this sees the count drop to 0, or Arrival.Dispose sees this
        try
        {
            if (Volatile.Read(ref _arriving) == 0) return false;
            using var timeout = new CancellationTokenSource(left);
            var readable = reader.WaitToReadAsync(timeout.Token).AsTask();
            if (await Task.WhenAny(readable, none.Task) != readable) timeout.Cancel();
            try { return await readable; }
            catch (OperationCanceledException) { return false; }
        }
        finally { Volatile.Write(ref _noneArriving, null); }
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
                r.Done.TrySetResult(logits.AsSpan(offset, r.N * classes).ToArray());
                offset += r.N * classes;
            }
        }
        catch (Exception e)
        {
            foreach (var r in batch) r.Done.TrySetException(e);
        }
        finally
        {
            foreach (var r in batch) r.Registration.Dispose();
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
            if (Interlocked.Exchange(ref _done, 1) == 0 && Interlocked.Decrement(ref owner._arriving) == 0)
                Volatile.Read(ref owner._noneArriving)?.TrySetResult(); // a batch waiting for it runs now
        }
    }

    private sealed class Request(float[] images, int n)
    {
        public float[] Images { get; } = images;
        public int N { get; } = n;
        public TaskCompletionSource<float[]> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>Cancels <see cref="Done"/> when the caller's token is cancelled; disposed once the request is run or dropped.</summary>
        public CancellationTokenRegistration Registration { get; set; }
    }
}
