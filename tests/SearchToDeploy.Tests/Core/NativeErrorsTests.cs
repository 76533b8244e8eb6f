using SearchToDeploy.Core.Torch;
using TorchSharp;

namespace SearchToDeploy.Tests.Core;

/// <summary>libtorch's errors reach a person as their message, without the C++ backtrace.</summary>
public sealed class NativeErrorsTests
{
    [Fact]
    public void A_libtorch_error_keeps_its_message_and_loses_its_frames()
    {
        using var a = torch.zeros(2, 3);
        using var b = torch.zeros(4, 5);
        var e = Assert.ThrowsAny<Exception>(() => torch.mm(a, b));
        Assert.True(NativeErrors.HasBacktrace(e.Message), e.Message);
        string clean = NativeErrors.Message(e);
        Assert.Contains("mat1 and mat2 shapes cannot be multiplied", clean);
        Assert.DoesNotContain("frame #", clean);
        Assert.DoesNotContain("Exception raised from", clean);
        Assert.Equal("plain message", NativeErrors.Clean("plain message"));
    }
}
