using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

/// <summary>
/// Depthwise 5x5 convolutions whose filters train take our own backward (<see cref="Depthwise5x5"/>): output and all
/// three gradients against libtorch's float64 convolution, the routing, and that repeated calls free their memory.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class Depthwise5x5Tests
{
    public static TheoryData<long, long, long, long, long, bool, bool> Shapes => new()
    {
        // batch, channels, height, width, padding, bias, input needs a gradient
        { 16, 6, 20, 20, 2, true, true },
        { 3, 8, 9, 7, 2, true, true },     // rows shorter than a vector: only the scalar tail
        { 2, 5, 13, 35, 2, false, true },  // vectors and a tail
        { 4, 4, 12, 12, 0, true, true },   // no padding
        { 2, 3, 10, 6, 4, false, true },   // padding beyond "same"
        { 5, 7, 16, 16, 2, true, false },  // a first layer: no input gradient
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Output_and_gradients_match_a_float64_reference(long n, long c, long h, long w, long pad, bool bias, bool inputGrad)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(7);
        var conv = new Conv(c, c, 5, padding: pad, groups: c, bias: bias);
        var x = torch.randn(n, c, h, w).requires_grad_(inputGrad);
        Assert.True(Depthwise5x5.Handles(x, conv.Weight, c, 5, 1, pad, 1, c), "the convolution did not take the depthwise 5x5 path");
        var y = conv.call(x);
        var g = torch.randn(y.shape);
        torch.autograd.backward([y], [g]);

        var x64 = x.detach().to(ScalarType.Float64).requires_grad_(inputGrad);
        var w64 = conv.Weight.detach().to(ScalarType.Float64).requires_grad_(true);
        var b64 = bias ? conv.Bias!.detach().to(ScalarType.Float64).requires_grad_(true) : null;
        var y64 = nn.functional.conv2d(x64, w64, b64, [1, 1], [pad, pad], [1, 1], c);
        torch.autograd.backward([y64], [g.to(ScalarType.Float64)]);

        Assert.Equal(y64.shape, y.shape);
        AssertClose("output", y, y64);
        AssertClose("filter gradient", conv.Weight.grad!, w64.grad!);
        if (inputGrad) AssertClose("input gradient", x.grad!, x64.grad!);
        else Assert.True(x.grad is null || x.grad.IsInvalid, "an input without requires_grad got a gradient");
        if (bias) AssertClose("bias gradient", conv.Bias!.grad!, b64!.grad!);
    }

    [Fact]
    public void Frozen_filters_3x3_kernels_strides_and_bfloat16_keep_libtorchs_convolution()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, 4, 8, 8);
        var w5 = torch.randn(4, 1, 5, 5).requires_grad_(true);
        Assert.True(Depthwise5x5.Handles(x, w5, 4, 5, 1, 2, 1, 4));
        Assert.False(Depthwise5x5.Handles(x, w5.detach(), 4, 5, 1, 2, 1, 4), "frozen filters (random features)");
        Assert.False(Depthwise5x5.Handles(x, w5, 4, 5, 2, 2, 1, 4), "stride 2");
        Assert.False(Depthwise5x5.Handles(x, w5, 4, 5, 1, 4, 2, 4), "dilation 2");
        Assert.False(Depthwise5x5.Handles(x.to(ScalarType.BFloat16), w5, 4, 5, 1, 2, 1, 4), "bfloat16");
        Assert.False(Depthwise5x5.Handles(x, torch.randn(4, 1, 3, 3).requires_grad_(true), 4, 3, 1, 1, 1, 4), "3x3");
        Assert.False(Depthwise5x5.Handles(torch.randn(2, 4, 8, 8), torch.randn(8, 1, 5, 5).requires_grad_(true), 4, 5, 1, 2, 1, 1), "dense");
        using (torch.no_grad()) Assert.False(Depthwise5x5.Handles(x, w5, 4, 5, 1, 2, 1, 4), "no gradients recorded");
    }

    [Fact]
    public void Passes_that_only_need_other_gradients_can_leave_the_filter_gradient_out()
    {
        // The architecture step's backward (inputs: α) reaches the filters' node on its way to the input; inside
        // WithoutFilterGradients it computes the input gradient alone, with the same numbers.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var conv = new Conv(6, 6, 5, padding: 2, groups: 6);
        var x = torch.randn(4, 6, 12, 12).requires_grad_(true);
        var g = torch.randn(4, 6, 12, 12);
        var full = torch.autograd.grad([conv.call(x)], [x], [g])[0];
        Tensor only;
        using (Depthwise5x5.WithoutFilterGradients()) only = torch.autograd.grad([conv.call(x)], [x], [g])[0];
        Assert.Equal(0.0, (full - only).abs().max().item<float>());
        using (Depthwise5x5.WithoutFilterGradients())
        {
            var skipped = torch.autograd.grad([conv.call(x)], [conv.Weight], [g], allow_unused: true)[0];
            Assert.True(skipped is null || skipped.IsInvalid, "the filter gradient was computed inside the scope");
        }
        var back = torch.autograd.grad([conv.call(x)], [conv.Weight], [g], allow_unused: true)[0];
        Assert.False(back is null || back.IsInvalid, "outside the scope the filter gradient is missing");
    }

    [Fact]
    public void Repeated_steps_free_their_memory()
    {
        // The custom function's handles are freed at the next call, not left to the finalizer: after warm-up, forty
        // forward and backward passes at [8, 32, 32, 32] (1 MB per activation), with no dispose scope to catch them,
        // leave the allocated memory where it was.
        var conv = new Conv(32, 32, 5, padding: 2, groups: 32);
        void Step()
        {
            using var x = torch.randn(8, 32, 32, 32).requires_grad_(true);
            using var y = conv.call(x);
            using var square = y.square();
            using var loss = square.sum();
            loss.backward();
        }
        for (int i = 0; i < 5; i++) Step();
        // Earlier tests' tensors are freed by the finalizer thread at any time: let it finish first, and count only
        // growth (a leak), since memory those finalizers free during the loop can only lower the figure.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = NativeAllocator.AllocatedBytes();
        for (int i = 0; i < 40; i++) Step();
        const long MB = 1 << 20;
        Assert.True(NativeAllocator.AllocatedBytes() - before < 4 * MB, $"allocated memory grew by {(NativeAllocator.AllocatedBytes() - before) / (double)MB:0.0} MB over 40 steps");
    }

    /// <summary>Within 1e-5 of the reference's largest magnitude.</summary>
    private static void AssertClose(string what, Tensor actual, Tensor reference)
    {
        double scale = reference.abs().max().item<double>();
        double diff = (actual.detach().to(ScalarType.Float64) - reference.detach()).abs().max().item<double>();
        Assert.True(diff < 1e-5 * scale, $"{what} differs by {diff} (largest {scale})");
    }
}
