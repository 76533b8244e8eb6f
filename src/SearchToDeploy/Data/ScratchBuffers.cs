using System.Buffers;
using System.Runtime.CompilerServices;

namespace SearchToDeploy.Data;

/// <summary>
/// Scratch arrays for decoding, resampling and cropping images: pooled up to 1 MB, allocated per use above, in a pool of
/// s2d's own that <see cref="Release"/> drops. ArrayPool.Shared keeps a returned array until a full collection finds it
/// unused for a minute, so a server's burst of requests left tens of MB of pooled arrays behind after it was over; the
/// server releases this pool when it falls idle, and its compacting collection then gives the memory back. Training
/// images (a few hundred pixels a side once the codec has scaled them) stay under the size limit and keep the pool's speed.
/// </summary>
public static class ScratchBuffers<T>
{
    public const int MaxPooledBytes = 1 << 20;
    private static readonly int MaxPooledLength = MaxPooledBytes / Unsafe.SizeOf<T>();
    private static ArrayPool<T> _pool = NewPool();

    private static ArrayPool<T> NewPool() => ArrayPool<T>.Create(MaxPooledLength, maxArraysPerBucket: 32);

    private static bool Pooled(int length) => length <= MaxPooledLength;

    /// <summary>An array of at least <paramref name="length"/> elements (contents undefined).</summary>
    public static T[] Rent(int length) => Pooled(length) ? Volatile.Read(ref _pool).Rent(length) : new T[length];

    /// <summary>Gives back an array from <see cref="Rent"/>; a large one is left to the collector.</summary>
    public static void Return(T[] array)
    {
        if (Pooled(array.Length)) Volatile.Read(ref _pool).Return(array);
    }

    /// <summary>Drops every pooled array (they become garbage; arrays rented now are returned to a fresh pool).</summary>
    public static void Release() => Volatile.Write(ref _pool, NewPool());
}
