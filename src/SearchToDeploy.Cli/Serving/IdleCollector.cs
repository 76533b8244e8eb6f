using System.Runtime;

namespace SearchToDeploy.Cli.Serving;

/// <summary>
/// Gives memory back after a burst: when requests have been served and none has run for <c>quiet</c>, a blocking,
/// compacting, decommitting garbage collection and a C-heap trim. Under steady load it never runs; it costs a few
/// milliseconds once per quiet period.
/// </summary>
public sealed class IdleCollector : IDisposable
{
    private readonly Timer _timer;
    private readonly TimeSpan _quiet;
    private int _inFlight;
    private long _served, _collectedAt, _lastEnd;

    public IdleCollector(TimeSpan quiet)
    {
        _quiet = quiet;
        _timer = new Timer(_ => Tick(), null, quiet, quiet);
    }

    public void RequestStarted() => Interlocked.Increment(ref _inFlight);

    /// <param name="probe">A health check or metrics scrape: it allocates little, so it asks for no collection after it
    /// (a probe every few seconds would otherwise collect after each one while the server is idle).</param>
    public void RequestEnded(bool probe = false)
    {
        if (!probe)
        {
            Interlocked.Exchange(ref _lastEnd, Environment.TickCount64);
            Interlocked.Increment(ref _served);
        }
        Interlocked.Decrement(ref _inFlight);
    }

    private void Tick()
    {
        long served = Interlocked.Read(ref _served);
        if (served == Interlocked.Read(ref _collectedAt) || Volatile.Read(ref _inFlight) > 0) return;
        if (Environment.TickCount64 - Interlocked.Read(ref _lastEnd) < _quiet.TotalMilliseconds) return;
        Interlocked.Exchange(ref _collectedAt, served);
        // The image scratch buffers pooled during the burst become garbage for the collection below.
        SearchToDeploy.Data.ScratchBuffers<byte>.Release();
        SearchToDeploy.Data.ScratchBuffers<float>.Release();
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Core.Torch.NativeAllocator.Trim();
    }

    public void Dispose() => _timer.Dispose();
}
