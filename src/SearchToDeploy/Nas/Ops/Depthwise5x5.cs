using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SearchToDeploy.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>
/// Depthwise 5x5 convolutions at stride 1 whose filters train, with a filter gradient of our own. libtorch's oneDNN
/// computes the forward pass and the input gradient of a depthwise 5x5 convolution with fast kernels, but its filter
/// gradient takes many times the forward pass (docs/torch-notes.md), a large part of a retraining step for cells
/// with 5x5 separable or dilated convolutions and of the non-RF baselines' search step. This function keeps
/// libtorch's forward and computes the input gradient as the forward convolution of the output gradient with the
/// flipped filters; the filter gradient is an AVX2 loop over each channel's planes (<see cref="FilterGradient"/>) at
/// about the cost of the forward pass (docs/benchmarks.md, "Depthwise 5x5 filter gradients"). Used only for float32
/// CPU tensors with gradients on; frozen filters (random features), 3x3 kernels (whose oneDNN filter gradient is
/// fast), strides above 1 and bfloat16 keep libtorch's convolution, and so does every convolution where TorchSharp's
/// native library was rebuilt for a libtorch without its custom-function support (<see cref="TorchBackend.CustomAutogradFunctions"/>).
/// </summary>
internal sealed class Depthwise5x5 : autograd.SingleTensorFunction<Depthwise5x5>
{
    private const int Kernel = 5;

    public override string Name => nameof(Depthwise5x5);

    /// <summary>Whether <see cref="Apply"/> takes over this convolution: a float32 CPU depthwise 5x5 at stride 1 and
    /// dilation 1 whose filters need a gradient, on a CPU with AVX2 and FMA (<paramref name="channels"/> and
    /// <paramref name="kernel"/>: the input's channels and the filters' height, which the caller has read already;
    /// other convolutions are turned away before any further shape is read).</summary>
    public static bool Handles(Tensor x, Tensor filters, long channels, long kernel, long stride, long padding, long dilation, long groups) =>
        kernel == Kernel && groups == channels && stride == 1 && dilation == 1 && padding >= 0 && padding < Kernel
        && filters.shape[0] == groups && filters.shape[1] == 1 && filters.shape[3] == Kernel
        && x.dtype == ScalarType.Float32 && filters.dtype == ScalarType.Float32 && x.device_type == DeviceType.CPU
        && filters.requires_grad && torch.is_grad_enabled() && Avx2.IsSupported && Fma.IsSupported
        && TorchBackend.CustomAutogradFunctions;

    /// <summary>The convolution, with this function's backward. Call only where <see cref="Handles"/> is true.</summary>
    public static Tensor Apply(Tensor x, Tensor filters, Tensor? bias, long padding)
    {
        ReleasePending();
        return apply(x, filters, bias, padding);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var x = (Tensor)vars[0];
        var filters = (Tensor)vars[1];
        var bias = vars[2] as Tensor;
        long padding = (long)vars[3];
        ctx.save_for_backward([x, filters]);
        ctx.save_data("padding", padding);
        ctx.save_data("input_grad", x.requires_grad);
        ctx.save_data("bias_grad", bias is { requires_grad: true });
        var y = functional.conv2d(x, filters, bias, [1, 1], [padding, padding], [1, 1], x.shape[1]);
        // TorchSharp wraps the output in a new handle and leaves this one to the finalizer, which would keep the
        // output's memory alive until the next garbage collection.
        Pending.Add(y);
        return y;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        ReleasePending();
        var saved = ctx.get_saved_variables();
        try
        {
            Tensor x = saved[0], filters = saved[1];
            long padding = (long)ctx.get_data("padding");
            using var g = gradOutput.contiguous();
            Tensor? gradInput = null, gradBias = null;
            if ((bool)ctx.get_data("input_grad"))
            {
                using var flipped = filters.flip(2, 3);
                gradInput = functional.conv2d(g, flipped, null, [1, 1], [Kernel - 1 - padding, Kernel - 1 - padding], [1, 1], x.shape[1]);
            }
            var gradFilters = _skipFilterGradients ? null : FilterGradient(x, g, padding);
            if ((bool)ctx.get_data("bias_grad")) gradBias = g.sum([0, 2, 3]);
            // The engine copies the returned tensors; these handles are freed at this thread's next call.
            foreach (var t in new[] { gradInput, gradFilters, gradBias }) if (t is not null) Pending.Add(t);
            return [gradInput!, gradFilters!, gradBias!, null!];
        }
        finally
        {
            gradOutput.Dispose();
            foreach (var t in saved) t?.Dispose();
        }
    }

    [ThreadStatic] private static bool _skipFilterGradients;

    /// <summary>
    /// Until disposed, backward passes on this thread leave the filter gradients out. For passes that only need the
    /// architecture parameters' gradients (<c>autograd.backward(..., inputs: α)</c>): libtorch's own convolutions
    /// skip the gradients the engine does not need, but a custom function cannot see which those are.
    /// </summary>
    public static IDisposable WithoutFilterGradients()
    {
        bool previous = _skipFilterGradients;
        _skipFilterGradients = true;
        return new Restore(() => _skipFilterGradients = previous);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    /// <summary>Handles created by this thread's previous call, which libtorch has copied by now (see forward and backward).</summary>
    [ThreadStatic] private static List<Tensor>? _pending;

    private static List<Tensor> Pending => _pending ??= [];

    private static void ReleasePending()
    {
        if (_pending is not { Count: > 0 } pending) return;
        foreach (var t in pending) t.Dispose();
        pending.Clear();
    }

    /// <summary>dL/dw[c, i, j] = Σ over n, h, w of x_padded[n, c, h + i, w + j] · g[n, c, h, w], channels in parallel
    /// on torch's thread count, each channel's sum in a fixed order (deterministic), float32 products summed per row
    /// block in vector lanes and across planes in float64.</summary>
    internal static unsafe Tensor FilterGradient(Tensor x, Tensor gradOutput, long padding)
    {
        using var xp = functional.pad(x, [padding, padding, padding, padding]); // a new contiguous tensor
        using var g = gradOutput.contiguous();
        int n = (int)x.shape[0], channels = (int)x.shape[1];
        int hp = (int)xp.shape[2], wp = (int)xp.shape[3], ho = (int)g.shape[2], wo = (int)g.shape[3];
        if (hp != ho + Kernel - 1 || wp != wo + Kernel - 1) throw new ArgumentException($"depthwise 5x5 gradient: input {hp}x{wp} after padding does not fit output {ho}x{wo}");
        var result = torch.empty([channels, 1, Kernel, Kernel], ScalarType.Float32);
        fixed (byte* xb = xp.bytes, gb = g.bytes, rb = result.bytes)
        {
            nint xa = (nint)xb, ga = (nint)gb, ra = (nint)rb;
            long xPlane = (long)hp * wp, gPlane = (long)ho * wo;
            Parallel.For(0, channels, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, torch.get_num_threads()) }, c =>
            {
                Span<double> sum = stackalloc double[Kernel * Kernel];
                sum.Clear();
                Span<float> row = stackalloc float[Kernel];
                for (int b = 0; b < n; b++)
                {
                    float* xs = (float*)xa + ((long)b * channels + c) * xPlane;
                    float* gs = (float*)ga + ((long)b * channels + c) * gPlane;
                    for (int i = 0; i < Kernel; i++)
                    {
                        KernelRow(xs + (long)i * wp, gs, wp, ho, wo, row);
                        for (int j = 0; j < Kernel; j++) sum[i * Kernel + j] += row[j];
                    }
                }
                float* r = (float*)ra + (long)c * Kernel * Kernel;
                for (int t = 0; t < Kernel * Kernel; t++) r[t] = (float)sum[t];
            });
        }
        return result;
    }

    /// <summary>For one kernel row i: out[j] = Σ over h, w of x[h + i, w + j] · g[h, w] (x already offset by row i).</summary>
    private static unsafe void KernelRow(float* x, float* g, int wp, int ho, int wo, Span<float> output)
    {
        var a0 = Vector256<float>.Zero; var a1 = a0; var a2 = a0; var a3 = a0; var a4 = a0;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0;
        for (int h = 0; h < ho; h++)
        {
            float* xr = x + (long)h * wp, gr = g + (long)h * wo;
            int w = 0;
            for (; w + 8 <= wo; w += 8)
            {
                var gv = Avx.LoadVector256(gr + w);
                a0 = Fma.MultiplyAdd(Avx.LoadVector256(xr + w), gv, a0);
                a1 = Fma.MultiplyAdd(Avx.LoadVector256(xr + w + 1), gv, a1);
                a2 = Fma.MultiplyAdd(Avx.LoadVector256(xr + w + 2), gv, a2);
                a3 = Fma.MultiplyAdd(Avx.LoadVector256(xr + w + 3), gv, a3);
                a4 = Fma.MultiplyAdd(Avx.LoadVector256(xr + w + 4), gv, a4);
            }
            for (; w < wo; w++)
            {
                float gs = gr[w];
                s0 += xr[w] * gs; s1 += xr[w + 1] * gs; s2 += xr[w + 2] * gs; s3 += xr[w + 3] * gs; s4 += xr[w + 4] * gs;
            }
        }
        output[0] = Vector256.Sum(a0) + s0; output[1] = Vector256.Sum(a1) + s1; output[2] = Vector256.Sum(a2) + s2;
        output[3] = Vector256.Sum(a3) + s3; output[4] = Vector256.Sum(a4) + s4;
    }
}
