using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Nas.Ops;
using TorchSharp;
using Xunit.Abstractions;
using static SearchToDeploy.Tests.Deploy.OnnxTestSupport;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Deploy;

/// <summary>
/// Every exportable op, built with a fixed seed and random BN statistics, exported alone, run in ONNX Runtime on the
/// CPU and compared with TorchSharp in eval mode: with BN folded into the convolutions and with BN nodes kept.
/// </summary>
public sealed class OnnxOpExportTests(ITestOutputHelper output)
{
    private const long C = 8, H = 8, W = 8;

    private static readonly Dictionary<string, Func<nn.Module<Tensor, Tensor>>> Ops = new()
    {
        ["conv_plain"] = () => new Conv(C, 6, 3, padding: 1),
        ["conv_grouped"] = () => new Conv(C, C, 3, padding: 1, groups: 4),
        ["conv_depthwise_stride2"] = () => new Conv(C, C, 3, stride: 2, padding: 1, groups: C),
        ["conv_dilated"] = () => new Conv(C, 6, 3, padding: 2, dilation: 2),
        ["conv_bias_stride2"] = () => new Conv(C, 6, 3, stride: 2, padding: 1, bias: true),
        ["relu_conv_bn_3x3_affine"] = () => new ReLUConvBN(C, 6, 3, 1, 1, new OpConfig(Affine: true)),
        ["relu_conv_bn_1x1_bias_noaffine_stride2"] = () => new ReLUConvBN(C, 6, 1, 2, 0, new OpConfig(Affine: false), bias: true),
        ["factorized_reduce_4_to_8"] = () => new FactorizedReduce(4, 8, new OpConfig(Affine: true)),
        ["resnet_basic_block"] = () => new ResNetBasicBlock(C, 2 * C, new OpConfig(Affine: true)),
        ["pool_with_bn"] = () => new WithBatchNorm(new Pool(max: true, 1), C, new OpConfig(Affine: false)),
        ["stem_conv_bn_sequential"] = () => nn.Sequential(new Conv(C, 16, 3, padding: 1), nn.BatchNorm2d(16)),
    };

    public static TheoryData<string> OpNames => new(Ops.Keys);

    /// <summary>DARTS-space ops from the registry (stride 1 and 2; affine BN as in retraining, and without as in search).</summary>
    public static TheoryData<string, long, bool> DartsOps
    {
        get
        {
            var d = new TheoryData<string, long, bool>();
            foreach (var name in OpRegistry.Darts)
                foreach (long stride in new[] { 1L, 2L })
                    foreach (bool affine in new[] { true, false })
                        d.Add(name, stride, affine);
            return d;
        }
    }

    public static TheoryData<string, long, bool> Nb201Ops
    {
        get
        {
            var d = new TheoryData<string, long, bool>();
            foreach (var name in OpRegistry.Nb201)
                foreach (long stride in new[] { 1L, 2L })
                    foreach (bool affine in new[] { true, false })
                        d.Add(name, stride, affine);
            return d;
        }
    }

    [Theory]
    [MemberData(nameof(OpNames))]
    public void Op_matches_torch(string name)
    {
        long cin = name.StartsWith("factorized_reduce_4") ? 4 : C;
        CheckBothWays(name, Ops[name], cin);
    }

    [Theory]
    [MemberData(nameof(DartsOps))]
    public void Darts_op_matches_torch(string name, long stride, bool affine) =>
        CheckBothWays($"darts {name} s{stride} affine={affine}", () => OpRegistry.CreateDarts(name, C, stride, new OpConfig(affine)), C);

    [Theory]
    [MemberData(nameof(Nb201Ops))]
    public void Nb201_op_matches_torch(string name, long stride, bool affine) =>
        CheckBothWays($"nb201 {name} s{stride} affine={affine}", () => OpRegistry.CreateNb201(name, C, C, stride, new OpConfig(affine)), C);

    [Fact]
    public void Classifier_head_with_torchsharp_modules_matches_torch()
    {
        CheckBothWays("head", () => nn.Sequential(
            new Conv(3, 16, 3, padding: 1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(2), nn.AvgPool2d(2, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)), 3);
    }

    [Fact]
    public void Folding_removes_the_batch_norm_nodes_that_follow_convolutions()
    {
        torch.manual_seed(3);
        var sep = new SepConv(C, C, 3, 1, 1, new OpConfig(Affine: true));
        var fr = new FactorizedReduce(C, C, new OpConfig(Affine: false));
        RandomizeBatchNorms(sep);
        RandomizeBatchNorms(fr);
        Assert.Equal(0, Count(ExportAlone(sep, C, H, W, fold: true), "BatchNormalization"));
        Assert.Equal(2, Count(ExportAlone(sep, C, H, W, fold: false), "BatchNormalization"));
        var folded = ExportAlone(fr, C, H, W, fold: true);
        Assert.Equal(0, Count(folded, "BatchNormalization"));
        Assert.Equal(2, Count(folded, "Conv"));
        Assert.Equal(1, Count(ExportAlone(fr, C, H, W, fold: false), "BatchNormalization"));
    }

    [Fact]
    public void Dynamic_batch_runs_batches_of_1_and_3_in_one_session()
    {
        torch.manual_seed(11);
        var op = new SepConv(C, C, 5, 2, 2, new OpConfig(Affine: true));
        RandomizeBatchNorms(op);
        var model = ExportAlone(op, C, H, W, fold: true);
        var dims = model.Graph.Input[0].Type.TensorType.Shape.Dim;
        Assert.Equal("N", dims[0].DimParam);
        Assert.Equal([C, H, W], dims.Skip(1).Select(d => d.DimValue));
        using var scope = torch.NewDisposeScope();
        double diff = MaxAbsDiff(op, model, torch.randn(1, C, H, W), torch.randn(3, C, H, W));
        output.WriteLine($"dynamic batch (sep_conv_5x5 s2, batch 1 and 3): max|diff| = {diff:E2}");
        Assert.True(diff <= Tolerance, $"max|diff| {diff:E3} > {Tolerance:E0}");
    }

    [Fact]
    public void Zero_gives_exact_zeros_of_the_subsampled_shape()
    {
        using var scope = torch.NewDisposeScope();
        foreach (long stride in new[] { 1L, 2L })
        {
            var model = ExportAlone(new Zero(stride), C, 7, 7, fold: true);
            using var session = new OnnxInference(Google.Protobuf.MessageExtensions.ToByteArray(model), OnnxExecutionProvider.Cpu, 1);
            var x = torch.randn(2, C, 7, 7);
            var y = session.Run(x.data<float>().ToArray(), x.shape, out long[] shape);
            long side = stride == 1 ? 7 : 4;
            Assert.Equal([2L, C, side, side], shape);
            Assert.All(y, v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void Unknown_module_type_is_named_in_the_error()
    {
        var g = new OnnxGraphBuilder();
        string x = g.AddInput(C, H, W);
        var e = Assert.Throws<NotSupportedException>(() => OnnxOpExporter.Export(g, nn.Tanh(), x, foldBatchNorm: true));
        Assert.Contains("Tanh", e.Message);
        e = Assert.Throws<NotSupportedException>(() => OnnxOpExporter.Export(g, new NoiseOp(1), x, foldBatchNorm: true));
        Assert.Contains(nameof(NoiseOp), e.Message);
    }

    [Fact]
    public void Batch_norm_without_running_statistics_is_refused()
    {
        var op = new ReLUConvBN(C, C, 3, 1, 1, new OpConfig(Affine: false, TrackRunningStats: false));
        foreach (bool fold in new[] { true, false })
        {
            var g = new OnnxGraphBuilder();
            string x = g.AddInput(C, H, W);
            Assert.Throws<NotSupportedException>(() => OnnxOpExporter.Export(g, op, x, fold));
        }
    }

    private void CheckBothWays(string label, Func<nn.Module<Tensor, Tensor>> create, long cin)
    {
        torch.manual_seed(20261127);
        var module = create();
        RandomizeBatchNorms(module);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, cin, H, W);
        foreach (bool fold in new[] { true, false })
        {
            var model = ExportAlone(module, cin, H, W, fold);
            double diff = MaxAbsDiff(module, model, x);
            output.WriteLine($"{label} fold={fold}: max|diff| = {diff:E2}");
            Assert.True(diff <= Tolerance, $"{label} (fold={fold}): max|ORT - torch| = {diff:E3} > {Tolerance:E0}");
        }
    }
}
