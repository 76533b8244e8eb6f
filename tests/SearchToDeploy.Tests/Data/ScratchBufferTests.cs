using SearchToDeploy.Data;

namespace SearchToDeploy.Tests.Data;

/// <summary>
/// Image scratch buffers: small ones are pooled, large ones never are, and releasing the pool (what the server does
/// when it falls idle) leaves no pooled array behind for the next burst to find.
/// </summary>
[Collection(AloneCollection.Name)] // the pools are process-wide: a parallel test decoding images would rent from them
public sealed class ScratchBufferTests
{
    [Fact]
    public void Small_buffers_are_reused_large_ones_are_not_and_release_drops_the_pool()
    {
        const int small = 12_345;
        var a = ScratchBuffers<float>.Rent(small);
        Assert.True(a.Length >= small);
        ScratchBuffers<float>.Return(a);
        Assert.Same(a, ScratchBuffers<float>.Rent(small));
        ScratchBuffers<float>.Return(a);

        ScratchBuffers<float>.Release();
        var b = ScratchBuffers<float>.Rent(small);
        Assert.NotSame(a, b);
        ScratchBuffers<float>.Return(b);

        int large = ScratchBuffers<byte>.MaxPooledBytes + 1;
        var c = ScratchBuffers<byte>.Rent(large);
        Assert.Equal(large, c.Length);
        ScratchBuffers<byte>.Return(c);
        Assert.NotSame(c, ScratchBuffers<byte>.Rent(large));
    }
}
