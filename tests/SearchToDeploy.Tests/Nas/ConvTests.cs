using SearchToDeploy.Nas.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

/// <summary>
/// The Conv module's forward pass and both gradients against a float64 reference (libtorch's float64 convolution
/// does not go through oneDNN), for every shape family the networks use, including the dense convolutions whose
/// oneDNN input gradients are wrong on this CPU (output channels not a multiple of 16).
/// </summary>
public sealed class ConvTests
{
    public static TheoryData<long, long, long, long, long, long> Shapes => new()
    {
        // cin, cout, kernel, stride, dilation, groups
        { 4, 4, 3, 1, 1, 1 },    // NB201 partial-channel conv 3x3 (C/K = 4): the broken oneDNN case
        { 8, 8, 3, 1, 1, 1 },
        { 2, 2, 3, 1, 1, 1 },
        { 16, 4, 3, 1, 1, 1 },
        { 3, 8, 3, 1, 1, 1 },    // a stem with C = 8
        { 4, 4, 1, 1, 1, 1 },    // 1x1
        { 4, 4, 3, 1, 1, 4 },    // depthwise sep_conv_3x3 on C/K = 4
        { 4, 4, 5, 1, 1, 4 },    // depthwise sep_conv_5x5
        { 4, 4, 3, 1, 2, 4 },    // depthwise dil_conv_3x3
        { 4, 4, 5, 2, 2, 4 },    // depthwise dil_conv_5x5, stride 2
        { 4, 4, 3, 2, 1, 1 },    // stride 2
        { 32, 32, 3, 1, 1, 1 },
        { 4, 24, 3, 1, 1, 1 },   // a fused NB201 node: 3 edges x (3x3, 1x1) x 4 channels, 24 is not a multiple of 16
        { 8, 40, 3, 1, 1, 1 },
        { 16, 20, 3, 1, 1, 1 },
        { 24, 24, 3, 1, 1, 24 }, // depthwise on 24 channels
        { 12, 12, 5, 1, 2, 12 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_and_gradients_match_a_float64_reference(long cin, long cout, long k, long stride, long dilation, long groups)
    {
        for (int trial = 0; trial < 4; trial++)
        {
            using var scope = torch.NewDisposeScope();
            var t = Trial(cin, cout, k, stride, dilation, groups, ScalarType.Float32, seed: 100 + trial);
            Assert.True(MaxDiff(t.Y, t.Y64) < 1e-4, $"forward differs by {MaxDiff(t.Y, t.Y64)}");
            Assert.True(MaxDiff(t.X.grad!, t.X64.grad!) < 1e-3, $"input gradient differs by {MaxDiff(t.X.grad!, t.X64.grad!)}");
            Assert.True(MaxDiff(t.Conv.Weight.grad!, t.W64.grad!) < 1e-2, $"weight gradient differs by {MaxDiff(t.Conv.Weight.grad!, t.W64.grad!)}");
        }
    }

    /// <summary>bfloat16 activations (--precision bf16) take oneDNN's bfloat16 kernels: the same shapes against a float64
    /// reference on the same bfloat16-rounded inputs and filters, within bfloat16's rounding (2^-8 relative).</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void Bf16_forward_and_gradients_match_a_float64_reference(long cin, long cout, long k, long stride, long dilation, long groups)
    {
        for (int trial = 0; trial < 2; trial++)
        {
            using var scope = torch.NewDisposeScope();
            var t = Trial(cin, cout, k, stride, dilation, groups, ScalarType.BFloat16, seed: 200 + trial);
            Assert.Equal(ScalarType.BFloat16, t.Y.dtype);
            AssertClose("forward", t.Y, t.Y64);
            using (torch.no_grad()) AssertClose("forward without a gradient (no input padding)", t.Conv.call(t.X.detach()), t.Y64);
            AssertClose("input gradient", t.X.grad!, t.X64.grad!);
            Assert.Equal(ScalarType.Float32, t.Conv.Weight.grad!.dtype);
            AssertClose("weight gradient", t.Conv.Weight.grad!, t.W64.grad!);
        }
    }

    public static TheoryData<long, long, long, long> OddSizes => new()
    {
        // kernel, stride, height, width
        { 3, 1, 7, 7 },   // dil_conv_3x3 in ImageNet's 7x7 stage
        { 5, 1, 7, 7 },
        { 3, 2, 7, 7 },
        { 5, 2, 15, 15 },
        { 3, 1, 9, 8 },   // one odd side
        { 5, 1, 6, 11 },
    };

    /// <summary>Dilated depthwise convolutions run on the input's pixel-parity phases; for 3x3 kernels odd sides are
    /// padded to even for that and cut back, which must give the same numbers as the dilated convolution (the 5x5 and
    /// stride-2 shapes here keep the dilated call).</summary>
    [Theory]
    [MemberData(nameof(OddSizes))]
    public void Dilated_depthwise_convolutions_at_odd_sizes_match_a_float64_reference(long k, long stride, long h, long w)
    {
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            using var scope = torch.NewDisposeScope();
            var t = Trial(6, 6, k, stride, 2, 6, dtype, seed: 300, h, w);
            long outH = (h - 1) / stride + 1, outW = (w - 1) / stride + 1;
            Assert.Equal([16L, 6, outH, outW], t.Y.shape);
            Assert.True(t.Y.is_contiguous(), "the cut-back output is a strided view");
            double tolerance = dtype == ScalarType.Float32 ? 1e-4 : 0.02;
            AssertClose($"{dtype} forward", t.Y, t.Y64, tolerance);
            AssertClose($"{dtype} input gradient", t.X.grad!, t.X64.grad!, tolerance);
            AssertClose($"{dtype} weight gradient", t.Conv.Weight.grad!, t.W64.grad!, tolerance);
        }
    }

    private sealed record ConvTrial(Conv Conv, Tensor X, Tensor Y, Tensor X64, Tensor W64, Tensor Y64);

    /// <summary>A Conv's forward and backward on an input of <paramref name="dtype"/>, and the float64 reference on the
    /// same values (filters rounded to <paramref name="dtype"/> as the Conv uses them) with the same output gradient.</summary>
    private static ConvTrial Trial(long cin, long cout, long k, long stride, long dilation, long groups, ScalarType dtype, int seed,
        long height = 20, long width = 20)
    {
        torch.manual_seed(seed);
        long pad = dilation * (k / 2);
        var conv = new Conv(cin, cout, k, stride, pad, dilation, groups, bias: true);
        var x = torch.randn(16, cin, height, width).to(dtype).requires_grad_(true);
        var y = conv.call(x);
        var g = torch.randn(y.shape).to(dtype);
        torch.autograd.backward([y], [g]);

        var x64 = x.detach().to(ScalarType.Float64).requires_grad_(true);
        var w64 = conv.Weight.detach().to(dtype).to(ScalarType.Float64).requires_grad_(true);
        var b64 = conv.Bias!.detach().to(dtype).to(ScalarType.Float64);
        var y64 = nn.functional.conv2d(x64, w64, b64, [stride, stride], [pad, pad], [dilation, dilation], groups);
        torch.autograd.backward([y64], [g.to(ScalarType.Float64)]);
        return new ConvTrial(conv, x, y, x64, w64, y64);
    }

    /// <summary>Within <paramref name="relative"/> of the reference's largest magnitude (default: bfloat16 rounding).</summary>
    private static void AssertClose(string what, Tensor actual, Tensor reference, double relative = 0.02)
    {
        double scale = reference.abs().max().item<double>();
        double diff = MaxDiff(actual, reference);
        Assert.True(diff < relative * scale, $"{what} differs by {diff} (largest {scale})");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Padded_convolutions_return_contiguous_outputs(bool bias)
    {
        // A narrowed (strided) output would send the BatchNorm after it down libtorch's slow non-contiguous kernels,
        // forward and backward (a NAS-Bench-201 partial-channel step was 5-15% slower for it).
        using var scope = torch.NewDisposeScope();
        var conv = new Conv(4, 24, 3, padding: 1, bias: bias);
        var y = conv.call(torch.randn(2, 4, 8, 8));
        Assert.Equal([2L, 24, 8, 8], y.shape);
        Assert.True(y.is_contiguous(), "the padded convolution's output is a strided view");
    }

    private static double MaxDiff(Tensor a, Tensor b) => (a.detach().to(ScalarType.Float64) - b.detach()).abs().max().item<double>() is var d && double.IsFinite(d) ? d : double.PositiveInfinity;
}
