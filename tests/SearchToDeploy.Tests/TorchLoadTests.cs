using TorchSharp;

namespace SearchToDeploy.Tests;

/// <summary>Fails when libtorch cannot load (for example, the libstdc++ version-need fix did not apply).</summary>
public sealed class TorchLoadTests
{
    [Fact]
    public void Torch_creates_and_multiplies_a_tensor()
    {
        using var a = torch.tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = torch.matmul(a, a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
    }
}
