using System.Runtime.InteropServices;

namespace SearchToDeploy.Core.Torch;

/// <summary>
/// glibc malloc settings for training: libtorch allocates and frees megabyte-sized tensors thousands of times per
/// step; by default glibc serves them with mmap and returns them to the kernel, so every allocation page-faults fresh
/// memory. Keeping freed memory in the heap makes search steps faster (docs/benchmarks.md). No-op on other C libraries.
/// </summary>
public static partial class NativeAllocator
{
    private const int MTrimThreshold = -1, MTopPad = -2, MMmapThreshold = -3, MArenaMax = -8;
    private static int _configured;

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    /// <summary>Returns free heap memory to the kernel (for memory measurements).</summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); } catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
    }

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 MallInfo();

    /// <summary>
    /// Bytes the program holds from malloc right now (heap chunks in use in every arena plus mmapped blocks): libtorch's
    /// live tensors and everything else native, without the free memory and fragmentation that resident memory also
    /// counts; -1 where glibc's mallinfo2 is missing.
    /// </summary>
    public static long AllocatedBytes()
    {
        if (!OperatingSystem.IsLinux()) return -1;
        try
        {
            var m = MallInfo();
            return (long)(m.UordBlks + m.HBlkHd);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return -1; }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);

    public static void ConfigureForTraining()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _configured, 1) == 1) return;
        try
        {
            Mallopt(MMmapThreshold, 32 << 20);   // the largest threshold glibc accepts on 64-bit
            Mallopt(MTrimThreshold, int.MaxValue);
            Mallopt(MTopPad, 256 << 20);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc: keep the defaults
        }
    }

    /// <summary>
    /// glibc malloc settings for a long-lived server: large blocks (decoded images, request bodies) always come from
    /// mmap and go back to the kernel when freed (a fixed threshold stops glibc from raising it after the first large
    /// free, which kept such blocks in the heap), and two arenas bound how much free memory threads can strand.
    /// </summary>
    public static void ConfigureForServing()
    {
        if (!OperatingSystem.IsLinux() || Interlocked.Exchange(ref _configured, 1) == 1) return;
        try
        {
            Mallopt(MMmapThreshold, 1 << 20);
            Mallopt(MTrimThreshold, 4 << 20);
            Mallopt(MArenaMax, 2);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc: keep the defaults
        }
    }
}
