using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Deploy;

/// <summary>Whole networks exported to ONNX compute what TorchSharp computes in evaluation mode.</summary>
public sealed class NetworkExportTests
{
    [Theory]
    [InlineData(KnownGenotypes.DartsV2, NetworkKind.Cifar, 32, false)]
    [InlineData(KnownGenotypes.PcDartsCifar, NetworkKind.Cifar, 32, true)]
    [InlineData(KnownGenotypes.DartsV2, NetworkKind.ImageNet, 96, false)]
    [InlineData(KnownGenotypes.PcDartsCifar, NetworkKind.ImageNet64, 64, false)]
    [InlineData(KnownGenotypes.Nb201ResNet, NetworkKind.Nb201x64, 64, false)]
    [InlineData(KnownGenotypes.Nb201Best, NetworkKind.Nb201, 32, false)]
    [InlineData("|avg_pool_3x3~0|+|none~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|", NetworkKind.Nb201, 32, true)]
    public void Network_parity_in_onnx_runtime(string genotype, NetworkKind kind, int size, bool keepBn)
    {
        torch.manual_seed(3);
        bool nb201 = RetrainNetwork.IsNb201(kind);
        var cfg = new NetworkConfig(kind, 8, nb201 ? 1 : kind == NetworkKind.ImageNet ? 5 : 4, 7, Auxiliary: !nb201);
        using var net = NetworkFactory.Create(Architecture.ParseText(genotype), cfg);
        OnnxTestSupport.RandomizeBatchNorms(net);
        var g = NetworkExporter.Export(net, size, keepBn);
        var model = OnnxModelFile.CreateModel(g);
        // Folded: only NAS-Bench-201's final BN (after a sum, before the ReLU: no convolution to fold it into) stays a node.
        if (!keepBn) Assert.Equal(nb201 ? 1 : 0, model.Graph.Node.Count(n => n.OpType == "BatchNormalization"));
        using var a = torch.randn(1, 3, size, size);
        using var b = torch.randn(3, 3, size, size);
        double diff = OnnxTestSupport.MaxAbsDiff(net, model, a, b);
        Assert.True(diff <= OnnxTestSupport.Tolerance, $"max |ORT - TorchSharp| = {diff:e2}");
    }
}
