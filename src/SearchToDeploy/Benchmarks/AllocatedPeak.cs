using SearchToDeploy.Core.Torch;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// The peak of <see cref="NativeAllocator.AllocatedBytes"/> while it runs, above the value at its start: a thread samples
/// it every millisecond. Unlike resident memory it does not count the heap's free and fragmented memory, so it measures
/// what a computation holds (its tensors), not how the allocator laid them out. Peaks shorter than a sample can be missed.
/// </summary>
public sealed class AllocatedPeak : IDisposable
{
    private readonly long _start = NativeAllocator.AllocatedBytes();
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _peak;

    public AllocatedPeak()
    {
        _peak = _start;
        _thread = new Thread(Sample) { IsBackground = true, Name = "allocated-peak" };
        _thread.Start();
    }

    public static bool Supported => NativeAllocator.AllocatedBytes() >= 0;

    /// <summary>The largest sample so far above the starting value, in bytes.</summary>
    public long PeakAboveStart
    {
        get
        {
            Observe();
            return Interlocked.Read(ref _peak) - _start;
        }
    }

    /// <summary>Samples the background thread has taken so far.</summary>
    public long Samples => Interlocked.Read(ref _samples);
    private long _samples;

    private void Sample()
    {
        while (!_stop)
        {
            Observe();
            Interlocked.Increment(ref _samples);
            Thread.Sleep(1);
        }
    }

    private void Observe()
    {
        long now = NativeAllocator.AllocatedBytes();
        long seen;
        while (now > (seen = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, seen) != seen) { }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }
}
