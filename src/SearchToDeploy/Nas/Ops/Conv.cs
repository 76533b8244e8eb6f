using SearchToDeploy.Core.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>
/// A 2-D convolution (parameters "weight" [out, in/groups, k, k] and optional "bias", PyTorch's default
/// initialisation) used by every network here instead of TorchSharp's Conv2d, for one reason: libtorch 2.10's oneDNN
/// backward-data kernels return wrong or NaN input gradients for dense convolutions whose output channel count is not
/// a multiple of 16 and whose kernel is larger than 1x1, on AVX2/AVX-512 CPUs (docs/torch-notes.md; the forward pass
/// and the weight gradients are right). Such convolutions run with their
/// filters zero-padded to the next multiple of 16 and the output narrowed back, which takes the correct kernels; the
/// result is identical. See docs/torch-notes.md.
/// </summary>
public sealed class Conv : Module<Tensor, Tensor>, IConvolutionWeights
{
    /// <summary>Dense convolutions get a multiple of this many output channels (the zero-padding workaround).</summary>
    public const long SafeOutputChannels = 16;

    private readonly Parameter weight;
    private readonly Parameter? bias;

    public Conv(long cin, long cout, long kernel, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = false)
        : base(nameof(Conv))
    {
        if (cin % groups != 0 || cout % groups != 0) throw new ArgumentException($"conv {cin}->{cout} is not divisible into {groups} groups");
        InChannels = cin; OutChannels = cout; Kernel = kernel; Stride = stride; Padding = padding; Dilation = dilation; Groups = groups;
        using (torch.no_grad())
        {
            weight = new Parameter(NewFilters([cout, cin / groups, kernel, kernel]));
            if (bias)
            {
                double bound = 1 / Math.Sqrt(cin / groups * kernel * kernel);
                this.bias = new Parameter(torch.empty(cout).uniform_(-bound, bound));
            }
        }
        RegisterComponents();
    }

    /// <summary>Filters of <paramref name="shape"/> with PyTorch's default initialisation (Kaiming-uniform, a = sqrt(5));
    /// stacked filter banks get each block's fan-in, since stacking is along the output channels.</summary>
    public static Tensor NewFilters(long[] shape)
    {
        var w = torch.empty(shape);
        nn.init.kaiming_uniform_(w, Math.Sqrt(5));
        return w;
    }

    public long InChannels { get; }
    public long OutChannels { get; }
    public long Kernel { get; }
    public long Stride { get; }
    public long Padding { get; }
    public long Dilation { get; }
    public long Groups { get; }
    public Parameter Weight => weight;
    public Parameter? Bias => bias;
    public IEnumerable<Parameter> ConvolutionWeights => [weight];
    public IEnumerable<Parameter> ConvolutionBiases => bias is null ? [] : [bias];

    public override Tensor forward(Tensor x)
    {
        return Apply(x, weight, bias, Stride, Padding, Dilation, Groups);
    }

    /// <summary>
    /// conv2d with the channel workarounds (see the class remarks): dense convolutions with a kernel larger than 1x1
    /// and an output channel count that is not a multiple of 16 run with zero-padded filters; with a bfloat16 input
    /// that needs a gradient, the input channels are padded to a multiple of 16 too (zero channels, zero taps), since
    /// oneDNN's bfloat16 backward-data kernels are wrong for those as well (docs/torch-notes.md). Filters and bias are
    /// cast to the input's type where they differ (float32 parameters, bfloat16 activations: see
    /// <see cref="SearchToDeploy.Core.Torch.Precision"/>); the cast passes gradients back to them.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias, long stride = 1, long padding = 0, long dilation = 1, long groups = 1)
    {
        long cin = x.shape[1], k = weight.shape[2];
        using var filters = weight.As(x.dtype);
        using var b = bias?.As(x.dtype);
        // Every rewrite below is about libtorch's CPU kernels (oneDNN's wrong gradients, its slow col2im); other
        // devices (CUDA, cuDNN) take the convolution as it is.
        if (x.device_type != DeviceType.CPU)
            return functional.conv2d(x, filters, b, [stride, stride], [padding, padding], [dilation, dilation], groups);
        if (dilation == 2 && groups == cin && weight.shape[1] == 1 && padding == k - 1 && weight.shape[3] == k && stride <= 2
            && ((k == 3 && stride == 1) || (x.shape[2] % 2 == 0 && x.shape[3] % 2 == 0)))
            return DepthwiseDilated2(x, filters, b, stride, (k - 1) / 2);
        if (Depthwise5x5.Handles(x, filters, cin, k, stride, padding, dilation, groups))
            return Depthwise5x5.Apply(x, filters, b, padding);
        if (groups != 1 || k <= 1)
            return functional.conv2d(x, filters, b, [stride, stride], [padding, padding], [dilation, dilation], groups);
        if (x.dtype != ScalarType.BFloat16 || !x.requires_grad || cin % SafeOutputChannels == 0)
            return PaddedOutput(x, filters, b, stride, padding, dilation);
        long extra = RoundUp(cin) - cin;
        using var xp = functional.pad(x, [0, 0, 0, 0, 0, extra]);
        using var wp = functional.pad(filters, [0, 0, 0, 0, 0, extra]);
        return PaddedOutput(xp, wp, b, stride, padding, dilation);
    }

    /// <summary>
    /// A depthwise convolution with dilation 2 and "same" padding (k - 1, DARTS's dil_conv) as an undilated one: each
    /// output pixel reads only input pixels of its own row and column parity, so the four parity phases (side by side
    /// in the batch) are four undilated convolutions with padding (k - 1) / 2; at stride 2 only the even phase is read.
    /// The same numbers, but oneDNN runs dilated depthwise convolutions through im2col and col2im (its col2im was a
    /// tenth of a DARTS-space PC search step) and undilated ones with its depthwise kernels. For a 3x3 kernel at stride 1
    /// an odd side gets one zero row or column (what the padding would read there anyway) and the output is cut back;
    /// 5x5 kernels at odd sizes were slower that way and stay on the dilated call (docs/benchmarks.md).
    /// </summary>
    private static Tensor DepthwiseDilated2(Tensor x, Tensor filters, Tensor? bias, long stride, long pad)
    {
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        if (stride == 2)
        {
            using var even = x[.., .., TensorIndex.Slice(0, null, 2), TensorIndex.Slice(0, null, 2)];
            return Undilated(even, filters, bias, pad);
        }
        if (h % 2 != 0 || w % 2 != 0)
        {
            using var padded = functional.pad(x, [0, w % 2, 0, h % 2]);
            using var full = DepthwiseDilated2(padded, filters, bias, 1, pad);
            using var cut = full[.., .., TensorIndex.Slice(0, h), TensorIndex.Slice(0, w)];
            return cut.contiguous();
        }
        using var split = x.reshape(n, c, h / 2, 2, w / 2, 2);
        using var phased = split.permute(0, 3, 5, 1, 2, 4); // [n, row parity, column parity, c, h/2, w/2]
        using var phases = phased.reshape(n * 4, c, h / 2, w / 2);
        using var y = Undilated(phases, filters, bias, pad);
        using var joined = y.view(n, 2, 2, c, h / 2, w / 2);
        using var back = joined.permute(0, 3, 4, 1, 5, 2); // [n, c, h/2, row parity, w/2, column parity]
        return back.reshape(n, c, h, w);
    }

    /// <summary>A depthwise convolution at stride 1 (the phases of a dilated one).</summary>
    private static Tensor Undilated(Tensor x, Tensor filters, Tensor? bias, long pad) =>
        Depthwise5x5.Handles(x, filters, x.shape[1], filters.shape[2], 1, pad, 1, x.shape[1])
            ? Depthwise5x5.Apply(x, filters, bias, pad)
            : functional.conv2d(x, filters, bias, [1, 1], [pad, pad], [1, 1], x.shape[1]);

    /// <summary>A dense convolution whose output channels are padded to a multiple of 16 where they are not.</summary>
    private static Tensor PaddedOutput(Tensor x, Tensor weight, Tensor? bias, long stride, long padding, long dilation)
    {
        long cout = weight.shape[0];
        if (cout % SafeOutputChannels == 0)
            return functional.conv2d(x, weight, bias, [stride, stride], [padding, padding], [dilation, dilation], 1);
        using var zeros = torch.zeros([RoundUp(cout) - cout, weight.shape[1], weight.shape[2], weight.shape[3]], weight.dtype, weight.device);
        using var filters = torch.cat([weight, zeros], 0);
        using var y = functional.conv2d(x, filters, null, [stride, stride], [padding, padding], [dilation, dilation], 1);
        using var narrowed = y.narrow(1, 0, cout);
        // Contiguous, not the strided view: a BatchNorm on a view takes libtorch's slow non-contiguous kernels.
        return bias is null ? narrowed.contiguous() : SearchToDeploy.Core.Torch.TensorSums.Add(narrowed, bias.view(1, -1, 1, 1));
    }

    private static long RoundUp(long channels) => (channels + SafeOutputChannels - 1) / SafeOutputChannels * SafeOutputChannels;
}
