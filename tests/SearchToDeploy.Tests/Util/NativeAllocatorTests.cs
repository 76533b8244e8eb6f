using SearchToDeploy.Benchmarks;
using SearchToDeploy.Util;
using TorchSharp;

namespace SearchToDeploy.Tests.Util;

/// <summary>glibc allocator settings: training keeps freed memory; exact accounting gives it back (Linux only).</summary>
public sealed class NativeAllocatorTests
{
    [Fact]
    public void Under_exact_accounting_freed_tensors_leave_resident_memory_and_the_training_setting_returns_after()
    {
        if (!ProcessMemory.Supported) return;
        NativeAllocator.ConfigureForTraining();
        using (var warm = torch.ones(1 << 20)) { } // libtorch's own start-up allocations, before anything is measured
        long Grown(long before) => ProcessMemory.ResidentBytes() - before;
        long FreedRemainder()
        {
            NativeAllocator.Trim();
            long before = ProcessMemory.ResidentBytes();
            var tensors = Enumerable.Range(0, 16).Select(_ => torch.ones(1 << 20)).ToList(); // 16 x 4 MB, touched
            Assert.True(Grown(before) > 60 << 20, $"16 x 4 MB of tensors grew resident memory by only {Grown(before) / 1e6:0} MB");
            foreach (var t in tensors) t.Dispose();
            return Grown(before);
        }
        using (NativeAllocator.ExactAccounting())
        {
            long remainder = FreedRemainder();
            Assert.True(remainder < 8 << 20, $"{remainder / 1e6:0} MB stayed resident after freeing under exact accounting");
        }
        // Back to training settings: 4 MB blocks come from the heap, which keeps them after they are freed.
        long kept = FreedRemainder();
        Assert.True(kept > 32 << 20, $"only {kept / 1e6:0} MB stayed resident with the training settings");
        NativeAllocator.Trim();
    }
}
