using SearchToDeploy.Benchmarks;
using SearchToDeploy.Core.Torch;
using TorchSharp;

namespace SearchToDeploy.Tests.Core;

/// <summary>What malloc holds (glibc's mallinfo2) and its sampled peak, the benchmarks' memory measure beside resident memory.</summary>
[Collection(AloneCollection.Name)]
public sealed class NativeAllocatorTests
{
    private const long MB = 1 << 20;

    [Fact]
    public void Allocated_bytes_follow_tensors_in_the_heap_and_in_mmapped_blocks_and_the_sampler_keeps_their_peak()
    {
        Assert.True(AllocatedPeak.Supported, "mallinfo2 is missing (not glibc?)");
        NativeAllocator.ConfigureForTraining();
        using (var warm = torch.ones(1 << 20)) { } // libtorch's own start-up allocations, before anything is measured
        // Earlier tests' tensors are freed by the finalizer thread at any time: let it finish first; what it may still
        // free during the measurement is small, hence the 1 MB below the tensors' own bytes in the ranges.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = NativeAllocator.AllocatedBytes();
        using var peak = new AllocatedPeak();
        var heap = Enumerable.Range(0, 16).Select(_ => torch.ones(1 << 20)).ToList(); // 16 x 4 MB: heap chunks
        using (var big = torch.ones(16 << 20))                                        // 64 MB: an mmapped block
        {
            Assert.InRange(NativeAllocator.AllocatedBytes() - before, 127 * MB, 136 * MB);
            // The sampling thread, not this one, must see it: wait for two of its samples taken while the tensors live.
            long seen = peak.Samples;
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (peak.Samples < seen + 2 && waited.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(1);
            Assert.True(peak.Samples >= seen + 2, "the sampling thread took no samples");
        }
        foreach (var t in heap) t.Dispose();
        Assert.InRange(NativeAllocator.AllocatedBytes() - before, -8 * MB, 8 * MB);
        Assert.InRange(peak.PeakAboveStart, 127 * MB, 136 * MB);
    }
}
