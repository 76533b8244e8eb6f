using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Inference;

namespace SearchToDeploy.Cli.Serving;

/// <summary>
/// What every endpoint shares: the model, the limits, the decoding slots for large images, and inference, through the
/// dynamic batcher or (batching off) a run of its own per request.
/// </summary>
public sealed class ServingContext(ServerOptions options, DeployedModel model, InferenceBatcher? batcher)
{
    private readonly SemaphoreSlim _largeDecodes = new(options.LargeDecodes);
    /// <summary>Decodes of any size at once: each holds the decoder's buffers, and more than the cores decode no faster.</summary>
    private readonly SemaphoreSlim _decodes = new(Math.Max(options.Decodes, options.LargeDecodes));

    public ServerOptions Options { get; } = options;
    public DeployedModel Model { get; } = model;
    public InferenceBatcher? Batcher { get; } = batcher;

    /// <summary>
    /// Decodes an uploaded image upright (EXIF orientation) at the size the model needs: 413 for too many pixels (from
    /// the header, before decoding), 400 for bytes that are not an image, 503 when large images keep the slots busy.
    /// </summary>
    public async Task<RgbImage> DecodeAsync(byte[] bytes, string name)
    {
        if (bytes.Length == 0) throw new ServingException(400, $"{name}: empty; send the bytes of a JPEG or PNG image");
        try
        {
            var (w, h) = ImageDecoder.ReadSize(bytes, name);
            if ((long)w * h > Options.MaxPixels) throw new ImageTooLargeException(name, $"{w}x{h} pixels is over the limit of {Options.MaxPixels:N0}");
            bool large = (long)w * h > ServerOptions.LargePixels;
            // A large image waits for its own slots first, holding no general one: large images queued cannot keep small ones out.
            if (large && !await _largeDecodes.WaitAsync(Options.DecodeWait))
                throw new ServingException(503, $"busy decoding other large images ({Options.LargeDecodes} at a time); retry shortly");
            try
            {
                if (!await _decodes.WaitAsync(Options.DecodeWait))
                    throw new ServingException(503, $"busy decoding other images ({Math.Max(Options.Decodes, Options.LargeDecodes)} at a time); retry shortly");
                try { return ImageDecoder.Decode(bytes, name, Options.MaxPixels, Model.DecodeSide, orient: true); }
                finally { _decodes.Release(); }
            }
            finally
            {
                if (large)
                {
                    _largeDecodes.Release();
                    Core.Torch.NativeAllocator.Trim(); // give the decoder's freed pages back to the system now
                }
            }
        }
        catch (ImageTooLargeException e) { throw new ServingException(413, e.Message); }
        catch (ImageDecodeException e) { throw new ServingException(400, e.Message); }
    }

    /// <summary>The model's input for one decoded image (NCHW floats of one image).</summary>
    public float[] Preprocess(in RgbImage image)
    {
        var x = new float[Model.ImageFloats];
        Model.Preprocess(image, x);
        return x;
    }

    /// <summary>
    /// The model's input for one uploaded image: decoded (<see cref="DecodeAsync"/>), then preprocessed at once, so a
    /// request of many images holds each one's pixels only while it is made into the model's floats.
    /// </summary>
    public async Task<float[]> DecodeInputAsync(byte[] bytes, string name) => Preprocess(await DecodeAsync(bytes, name));

    /// <summary>Told the number of images of each run without batching (each request's own run), for a batch-size histogram.</summary>
    public event Action<int>? RunAlone;

    /// <summary>Tells the batcher a request is on its way (null without batching); pass it to <see cref="LogitsAsync"/>.</summary>
    public IDisposable? Arrive() => Batcher?.Arrive();

    /// <summary>
    /// Logits [n, classes] of n preprocessed images: 413 for more images than the queue holds (no retry would help),
    /// 503 when it is full. Without batching, the queue's bound is on the images being run at once. A request whose
    /// client has gone (<paramref name="cancel"/>) is dropped from the queue.
    /// </summary>
    public async Task<float[]> LogitsAsync(float[] images, int n, IDisposable? arrival, CancellationToken cancel)
    {
        try
        {
            int bound = Batcher?.Settings.QueueImages ?? Options.Batching.QueueImages;
            if (n > bound) throw new ServingException(413, $"{n} images in one request; this server queues at most {bound} (--queue)");
            if (Batcher is null) return RunOwn(images, n, bound);
            Task<float[]> done;
            try { done = Batcher.InferAsync(images, n, cancel); }
            catch (QueueFullException e) { throw new ServingException(503, e.Message); }
            arrival?.Dispose(); // queued: the batcher need not wait for it any more
            return await done;
        }
        finally { arrival?.Dispose(); }
    }

    /// <summary>Images queued or being run now (the batcher's queue, or without batching the images being run).</summary>
    public int QueuedImages => Batcher?.QueuedImages ?? Volatile.Read(ref _running);

    private int _running;
    private bool _closed;

    /// <summary>
    /// Waits until no request runs the model on its own (batching off), at most <paramref name="limit"/>: the model is
    /// disposed after the server stops, and a request the host's shutdown timeout left running must not outlive it.
    /// </summary>
    public bool WaitIdle(TimeSpan limit)
    {
        Volatile.Write(ref _closed, true); // a request that gets here later is refused, not run on a disposed model
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref _running) > 0)
        {
            if (watch.Elapsed > limit) return false;
            Thread.Sleep(10);
        }
        return true;
    }

    private float[] RunOwn(float[] images, int n, int bound)
    {
        try
        {
            if (Interlocked.Add(ref _running, n) > bound)
                throw new ServingException(503, $"{bound} images are being run already; retry shortly");
            if (Volatile.Read(ref _closed)) throw new ServingException(503, "the server is shutting down");
            var logits = Model.Logits(images, n);
            RunAlone?.Invoke(n);
            return logits;
        }
        finally { Interlocked.Add(ref _running, -n); }
    }
}
