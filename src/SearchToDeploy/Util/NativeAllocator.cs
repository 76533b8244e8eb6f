using System.Runtime.InteropServices;

namespace SearchToDeploy.Util;

/// <summary>
/// glibc malloc settings for training: libtorch allocates and frees megabyte-sized tensors thousands of times per
/// step; by default glibc serves them with mmap and returns them to the kernel, so every allocation page-faults fresh
/// memory (6% of a search step in a profile here). Keeping freed memory in the heap made a NAS-Bench-201 search step
/// about 20% faster. No-op on other C libraries.
/// </summary>
public static partial class NativeAllocator
{
    private const int MTrimThreshold = -1, MTopPad = -2, MMmapThreshold = -3;
    private static int _configured;

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    /// <summary>Returns free heap memory to the kernel (for memory measurements).</summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); } catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);

    public static void ConfigureForTraining()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _configured, 1) == 1) return;
        TrySet(MMmapThreshold, TrainingMmapThreshold);
        TrySet(MTrimThreshold, int.MaxValue);
        TrySet(MTopPad, 256 << 20);
    }

    private const int TrainingMmapThreshold = 32 << 20;   // the largest threshold glibc accepts on 64-bit
    private const int DefaultMmapThreshold = 128 << 10;   // glibc's initial threshold

    /// <summary>
    /// Until disposed, allocations of 128 KB and more (every tensor that matters) are mmapped and unmapped when freed,
    /// so that resident memory follows the live tensors instead of the heap's high-water mark and its fragmentation
    /// (a memory measurement; slower, so only around one). Restores the training settings afterwards.
    /// </summary>
    public static IDisposable ExactAccounting()
    {
        TrySet(MMmapThreshold, DefaultMmapThreshold);
        Trim();
        return new Restore();
    }

    private sealed class Restore : IDisposable
    {
        public void Dispose()
        {
            if (Volatile.Read(ref _configured) == 1) TrySet(MMmapThreshold, TrainingMmapThreshold);
        }
    }

    private static void TrySet(int param, int value)
    {
        if (!OperatingSystem.IsLinux()) return;
        try { Mallopt(param, value); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { } // not glibc: keep the defaults
    }
}
