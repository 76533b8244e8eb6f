namespace SearchToDeploy.Nas.Ops;

/// <summary>
/// Which rows of the whole batch this process holds in a data-parallel step (rank r of N holds a contiguous share).
/// Ops that draw random numbers per image (drop-path masks, S4's noise) draw them for the whole batch and keep this
/// share's rows: every image gets the draw one process would give it, and every rank draws as many numbers, so torch's
/// generator stays the same on all ranks (GDAS's sampling of α relies on that).
/// </summary>
public static class BatchShare
{
    [ThreadStatic] private static (long Offset, long Whole)? _current;

    /// <summary>This thread's share while a data-parallel step runs; null in one process.</summary>
    public static (long Offset, long Whole)? Current => _current;

    /// <summary>Rows [offset, offset + count) of a batch of <paramref name="whole"/> until disposed.</summary>
    public static IDisposable Enter(long offset, long whole)
    {
        var before = _current;
        _current = (offset, whole);
        return new Leave(before);
    }

    /// <summary>
    /// The random tensor of <paramref name="rows"/> rows that <paramref name="draw"/> gives for the whole batch, cut to
    /// this share; <paramref name="draw"/> of <paramref name="rows"/> itself outside a data-parallel step.
    /// </summary>
    public static TorchSharp.torch.Tensor Draw(long rows, Func<long, TorchSharp.torch.Tensor> draw)
    {
        if (_current is not { } share || share.Whole == rows || share.Offset + rows > share.Whole) return draw(rows);
        using var all = draw(share.Whole);
        using var part = all.narrow(0, share.Offset, rows); // a view of the whole draw: copied, then both freed
        return part.clone();
    }

    private sealed class Leave((long Offset, long Whole)? before) : IDisposable
    {
        public void Dispose() => _current = before;
    }
}
