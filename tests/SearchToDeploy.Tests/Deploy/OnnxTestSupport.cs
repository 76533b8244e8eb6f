using Google.Protobuf;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Deploy.Onnx.Proto;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Deploy;

/// <summary>Exports single modules to ONNX and compares ONNX Runtime (CPU, 1 thread) with TorchSharp.</summary>
internal static class OnnxTestSupport
{
    public const double Tolerance = 1e-4;

    /// <summary>
    /// Gives every BatchNorm2d non-trivial running statistics (and affine parameters where it has them), so that a
    /// wrong fold or a mixed-up channel shows; puts the module in eval mode.
    /// </summary>
    public static void RandomizeBatchNorms(nn.Module module)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            if (m is not BatchNorm2d bn) continue;
            long c = bn.num_features;
            bn.running_mean!.copy_(torch.randn(c) * 0.5);
            bn.running_var!.copy_(torch.rand(c) * 1.5 + 0.3);
            bn.weight?.copy_(torch.rand(c) + 0.5);
            bn.bias?.copy_(torch.randn(c) * 0.3);
        }
        module.eval();
    }

    /// <summary>The module alone as a model with input [N, c, h, w] and output "logits".</summary>
    public static ModelProto ExportAlone(nn.Module module, long c, long h, long w, bool fold)
    {
        var g = new OnnxGraphBuilder("test");
        string x = g.AddInput(c, h, w);
        string y = OnnxOpExporter.Export(g, module, x, fold);
        g.AddOutput(y);
        return OnnxModelFile.CreateModel(g);
    }

    /// <summary>Max |ORT - torch| over the batches (all run in one session), with the shapes checked.</summary>
    public static double MaxAbsDiff(nn.Module<Tensor, Tensor> module, ModelProto model, params Tensor[] inputs)
    {
        using var session = new OnnxInference(model.ToByteArray(), OnnxExecutionProvider.Cpu, threads: 1);
        double worst = 0;
        foreach (var x in inputs)
        {
            using var scope = torch.NewDisposeScope();
            Tensor expected;
            using (torch.no_grad()) expected = module.call(x);
            var got = session.Run(x.data<float>().ToArray(), x.shape, out long[] shape);
            Assert.Equal(expected.shape, shape);
            var want = expected.data<float>().ToArray();
            for (int i = 0; i < want.Length; i++)
                worst = Math.Max(worst, Math.Abs((double)want[i] - got[i]));
        }
        return worst;
    }

    public static int Count(ModelProto model, string opType) => model.Graph.Node.Count(n => n.OpType == opType);
}
