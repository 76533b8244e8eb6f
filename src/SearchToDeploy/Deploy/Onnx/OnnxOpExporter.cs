using SearchToDeploy.Nas.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Deploy.Onnx;

/// <summary>
/// Writes the ONNX nodes of one module (with inference semantics: batch norms use their running statistics, whatever
/// the module's training flag) into a graph and returns the name of its output value.
/// Covered: <see cref="Conv"/>, <see cref="ReLUConvBN"/>, <see cref="DilConv"/>, <see cref="SepConv"/>,
/// <see cref="FactorizedReduce"/>, <see cref="Zero"/>, <see cref="Nas.Ops.Identity"/>, <see cref="Pool"/>,
/// <see cref="WithBatchNorm"/>, <see cref="ResNetBasicBlock"/>, and TorchSharp's BatchNorm2d, Sequential, AvgPool2d,
/// MaxPool2d, ReLU, AdaptiveAvgPool2d(1), Flatten and Linear. Anything else throws <see cref="NotSupportedException"/>
/// naming the type.
/// </summary>
/// <remarks>
/// With <c>foldBatchNorm</c>, a BN that follows a convolution is folded into it (see <see cref="BatchNormFolding"/>):
/// ReLUConvBN's conv, DilConv's pointwise conv, FactorizedReduce's two convs (one half of the BN's channels each) and
/// a Conv directly followed by a BatchNorm2d inside a Sequential. A BN with no convolution before it always becomes a
/// BatchNormalization node. Without folding, every BN becomes a BatchNormalization node.
/// </remarks>
public static class OnnxOpExporter
{
    /// <summary>"To the end" for Slice ends.</summary>
    private const long End = long.MaxValue;

    public static string Export(OnnxGraphBuilder g, nn.Module module, string input, bool foldBatchNorm)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(module);
        return Export(g, module, input, foldBatchNorm, HintOf(module));
    }

    private static string Export(OnnxGraphBuilder g, nn.Module module, string x, bool fold, string name)
    {
        switch (module)
        {
            case Conv conv:
                return ConvThenBatchNorm(g, x, conv, null, fold, name);

            case BatchNorm2d bn:
                return BatchNormNode(g, x, bn, name);

            case Sequential seq:
                return SequentialOf(g, seq, x, fold, name);

            case ReLUConvBN op:
            {
                string r = g.Relu(x, name + ".relu");
                return ConvThenBatchNorm(g, r, Child<Conv>(op, "conv"), Child<BatchNorm2d>(op, "bn"), fold, name + ".conv");
            }

            case DilConv op:
            {
                string r = g.Relu(x, name + ".relu");
                string d = ConvThenBatchNorm(g, r, Child<Conv>(op, "depthwise"), null, fold, name + ".depthwise");
                return ConvThenBatchNorm(g, d, Child<Conv>(op, "pointwise"), Child<BatchNorm2d>(op, "bn"), fold, name + ".pointwise");
            }

            case SepConv op:
            {
                string a = Export(g, Child<DilConv>(op, "first"), x, fold, name + ".first");
                return Export(g, Child<DilConv>(op, "second"), a, fold, name + ".second");
            }

            case FactorizedReduce op:
                return FactorizedReduceOf(g, op, x, fold, name);

            case Zero zero:
            {
                string s = zero.Stride == 1 ? x : g.Slice(x, [0, 0], [End, End], [2, 3], [zero.Stride, zero.Stride], name + ".subsample");
                return g.ZerosLike(s, name);
            }

            case Nas.Ops.Identity:
                return x;

            case Pool pool:
                return pool.IsMax
                    ? g.MaxPool(x, 3, pool.Stride, 1, name)
                    : g.AveragePool(x, 3, pool.Stride, 1, countIncludePad: false, name);

            case WithBatchNorm op:
            {
                string y = Export(g, Child<nn.Module>(op, "op"), x, fold, name + ".op");
                return BatchNormNode(g, y, Child<BatchNorm2d>(op, "bn"), name + ".bn");
            }

            case ResNetBasicBlock block:
            {
                string a = Export(g, Child<ReLUConvBN>(block, "conv_a"), x, fold, name + ".conv_a");
                string b = Export(g, Child<ReLUConvBN>(block, "conv_b"), a, fold, name + ".conv_b");
                string r = Export(g, Child<Sequential>(block, "downsample"), x, fold, name + ".downsample");
                return g.Add(r, b, name + ".add");
            }

            case AvgPool2d pool:
                return AvgPool2dOf(g, pool, x, name);

            case MaxPool2d pool:
                return MaxPool2dOf(g, pool, x, name);

            case ReLU:
                return g.Relu(x, name);

            case AdaptiveAvgPool2d pool when pool.output_size.All(s => s == 1):
                return g.GlobalAveragePool(x, name);

            case Flatten flatten when flatten.start_dim == 1 && flatten.end_dim == -1:
                return g.Flatten(x, 1, name);

            case Linear linear:
                return g.Gemm(x, linear.weight!, linear.bias, name);

            case NoiseOp:
                throw new NotSupportedException($"ONNX export does not support module type {module.GetType().FullName}: it draws random noise and has no inference equivalent");

            default:
                throw new NotSupportedException($"ONNX export does not support module type {module.GetType().FullName}");
        }
    }

    /// <summary>A conv, then the BN after it (folded into the conv, or as a node), or no BN.</summary>
    private static string ConvThenBatchNorm(OnnxGraphBuilder g, string x, Conv conv, BatchNorm2d? bn, bool fold, string name)
    {
        if (bn is not null && fold)
        {
            var (w, b) = BatchNormFolding.Fold(conv.Weight, conv.Bias, bn);
            using (w)
            using (b)
                return g.Conv(x, w, b, conv.Stride, conv.Padding, conv.Dilation, conv.Groups, name);
        }
        string y = g.Conv(x, conv.Weight, conv.Bias, conv.Stride, conv.Padding, conv.Dilation, conv.Groups, name);
        return bn is null ? y : BatchNormNode(g, y, bn, name + ".bn");
    }

    private static string BatchNormNode(OnnxGraphBuilder g, string x, BatchNorm2d bn, string name)
    {
        var (mean, variance) = BatchNormFolding.RunningStats(bn);
        using var scope = torch.NewDisposeScope();
        var gamma = bn.weight is { } w ? (Tensor)w : torch.ones_like(mean);
        var beta = bn.bias is { } b ? (Tensor)b : torch.zeros_like(mean);
        return g.BatchNormalization(x, gamma, beta, mean, variance, bn.eps, name);
    }

    /// <summary>Children in order; a Conv directly followed by a BatchNorm2d is exported as one conv when folding.</summary>
    private static string SequentialOf(OnnxGraphBuilder g, Sequential seq, string x, bool fold, string name)
    {
        var children = seq.named_children().ToList();
        for (int i = 0; i < children.Count; i++)
        {
            var (childName, child) = children[i];
            string hint = $"{name}.{childName}";
            if (fold && child is Conv conv && i + 1 < children.Count && children[i + 1].Item2 is BatchNorm2d bn)
            {
                x = ConvThenBatchNorm(g, x, conv, bn, fold: true, hint);
                i++;
            }
            else
            {
                x = Export(g, child, x, fold, hint);
            }
        }
        return x;
    }

    /// <summary>ReLU -> concat(conv_1(r), conv_2(r[:, :, 1:, 1:])) -> BN; folding puts each half of the BN into its conv.</summary>
    private static string FactorizedReduceOf(OnnxGraphBuilder g, FactorizedReduce op, string x, bool fold, string name)
    {
        var conv1 = Child<Conv>(op, "conv_1");
        var conv2 = Child<Conv>(op, "conv_2");
        var bn = Child<BatchNorm2d>(op, "bn");
        string r = g.Relu(x, name + ".relu");
        string shifted = g.Slice(r, [1, 1], [End, End], [2, 3], [1, 1], name + ".shift");
        if (!fold)
        {
            string a = ConvThenBatchNorm(g, r, conv1, null, false, name + ".conv_1");
            string b = ConvThenBatchNorm(g, shifted, conv2, null, false, name + ".conv_2");
            string cat = g.Concat([a, b], 1, name + ".concat");
            return BatchNormNode(g, cat, bn, name + ".bn");
        }
        string fa = FoldedConv(g, r, conv1, bn, 0, name + ".conv_1");
        string fb = FoldedConv(g, shifted, conv2, bn, conv1.OutChannels, name + ".conv_2");
        return g.Concat([fa, fb], 1, name + ".concat");
    }

    private static string FoldedConv(OnnxGraphBuilder g, string x, Conv conv, BatchNorm2d bn, long channelOffset, string name)
    {
        var (w, b) = BatchNormFolding.Fold(conv.Weight, conv.Bias, bn, channelOffset);
        using (w)
        using (b)
            return g.Conv(x, w, b, conv.Stride, conv.Padding, conv.Dilation, conv.Groups, name);
    }

    private static string AvgPool2dOf(OnnxGraphBuilder g, AvgPool2d pool, string x, string name)
    {
        if (pool.ceil_mode || pool.divisor_override is not null)
            throw new NotSupportedException($"ONNX export does not support {pool.GetType().FullName} with ceil_mode or divisor_override");
        var kernel = Pair(pool.kernel_size, 1);
        var stride = pool.stride is { Length: > 0 } s ? Pair(s, 1) : kernel;
        var pad = Pair(pool.padding, 0);
        return g.Node("AveragePool", [x], name,
            OnnxGraphBuilder.Ints("kernel_shape", kernel),
            OnnxGraphBuilder.Ints("strides", stride),
            OnnxGraphBuilder.Ints("pads", pad[0], pad[1], pad[0], pad[1]),
            OnnxGraphBuilder.Int("count_include_pad", pool.count_include_pad ? 1 : 0));
    }

    private static string MaxPool2dOf(OnnxGraphBuilder g, MaxPool2d pool, string x, string name)
    {
        if (pool.ceil_mode)
            throw new NotSupportedException($"ONNX export does not support {pool.GetType().FullName} with ceil_mode");
        var kernel = Pair(pool.kernel_size, 1);
        var stride = pool.stride is { Length: > 0 } s ? Pair(s, 1) : kernel;
        var pad = Pair(pool.padding, 0);
        var dilation = Pair(pool.dilation, 1);
        return g.Node("MaxPool", [x], name,
            OnnxGraphBuilder.Ints("kernel_shape", kernel),
            OnnxGraphBuilder.Ints("strides", stride),
            OnnxGraphBuilder.Ints("pads", pad[0], pad[1], pad[0], pad[1]),
            OnnxGraphBuilder.Ints("dilations", dilation));
    }

    /// <summary>A 2-D pooling argument as [h, w]: one value means both; absent means the default.</summary>
    private static long[] Pair(long[]? values, long fallback) => values switch
    {
        null or { Length: 0 } => [fallback, fallback],
        { Length: 1 } => [values[0], values[0]],
        _ => [values[0], values[1]],
    };

    /// <summary>A registered child module by its field name (the ops keep their children in private fields).</summary>
    private static T Child<T>(nn.Module parent, string childName) where T : nn.Module
    {
        foreach (var (n, m) in parent.named_children())
            if (n == childName)
                return m as T ?? throw new InvalidOperationException(
                    $"{parent.GetType().Name}.{childName} is a {m.GetType().Name}, expected {typeof(T).Name}");
        throw new InvalidOperationException($"{parent.GetType().Name} has no child module '{childName}'");
    }

    private static string HintOf(nn.Module module) => module.GetType().Name.ToLowerInvariant();
}
