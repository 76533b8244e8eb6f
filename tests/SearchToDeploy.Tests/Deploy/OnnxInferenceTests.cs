using Google.Protobuf;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Deploy.Onnx.Proto;
using SearchToDeploy.Nas.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Deploy;

public sealed class OnnxInferenceTests
{
    private static (byte[] Model, ReLUConvBN Op) Model()
    {
        torch.manual_seed(2);
        var op = new ReLUConvBN(3, 4, 3, 2, 1, new OpConfig(Affine: true));
        OnnxTestSupport.RandomizeBatchNorms(op);
        return (OnnxTestSupport.ExportAlone(op, 3, 8, 8, fold: true).ToByteArray(), op);
    }

    [Fact]
    public void Auto_runs_on_cuda_or_falls_back_to_the_cpu_and_says_so()
    {
        var (bytes, _) = Model();
        using var session = new OnnxInference(bytes, OnnxExecutionProvider.Auto, threads: 1);
        if (session.Provider == OnnxExecutionProvider.Cpu)
            Assert.False(string.IsNullOrEmpty(session.FallbackReason));
        else
            Assert.Null(session.FallbackReason);
        Assert.Equal(4 * 4 * 4 * 2, session.Run(new float[2 * 3 * 8 * 8]).Length);
    }

    [Fact]
    public void Cuda_where_unavailable_is_a_clear_error()
    {
        var (bytes, _) = Model();
        using (var auto = new OnnxInference(bytes, OnnxExecutionProvider.Auto, threads: 1))
            if (auto.Provider == OnnxExecutionProvider.Cuda) return; // a GPU machine: nothing to check here
        var e = Assert.Throws<InputException>(() => new OnnxInference(bytes, OnnxExecutionProvider.Cuda));
        Assert.Contains("cuda", e.Message);
        Assert.Contains("auto", e.Message);
    }

    [Fact]
    public void A_model_onnx_runtime_cannot_load_is_blamed_on_the_model_not_on_cuda()
    {
        byte[] broken = [0x08, 0x08, 0x12, 0x03, 0xFF, 0xFF, 0xFF, 0x3A, 0x02, 0x0A];
        foreach (var provider in new[] { OnnxExecutionProvider.Cuda, OnnxExecutionProvider.Auto, OnnxExecutionProvider.Cpu })
            Assert.Contains("could not load", Assert.Throws<OnnxFormatException>(() => new OnnxInference(broken, provider)).Message);
    }

    [Fact]
    public void Cpu_runs_the_batch_with_the_shape_from_the_model()
    {
        var (bytes, op) = Model();
        using var session = new OnnxInference(bytes, OnnxExecutionProvider.Cpu, threads: 2);
        Assert.Equal(OnnxExecutionProvider.Cpu, session.Provider);
        Assert.Null(session.FallbackReason);
        Assert.Equal([-1L, 3, 8, 8], session.InputShape);
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(3, 3, 8, 8);
        var got = session.Run(x.data<float>().ToArray());
        using (torch.no_grad())
        {
            var want = op.call(x).data<float>().ToArray();
            Assert.Equal(want.Length, got.Length);
            Assert.True(want.Zip(got).Max(p => Math.Abs(p.First - p.Second)) <= OnnxTestSupport.Tolerance);
        }
        Assert.Throws<ArgumentException>(() => session.Run(new float[3 * 8 * 8 + 1]));
    }

    [Fact]
    public void Provider_names_parse()
    {
        Assert.Equal(OnnxExecutionProvider.Auto, OnnxExecutionProviders.Parse("auto"));
        Assert.Equal(OnnxExecutionProvider.Cuda, OnnxExecutionProviders.Parse("CUDA"));
        Assert.Equal(OnnxExecutionProvider.Cpu, OnnxExecutionProviders.Parse(" cpu "));
        Assert.Equal("cuda", OnnxExecutionProvider.Cuda.Name());
        Assert.Contains("expected auto, cuda or cpu", Assert.Throws<InputException>(() => OnnxExecutionProviders.Parse("tpu")).Message);
    }

    [Fact]
    public void Graph_builder_names_are_unique_and_initializers_little_endian()
    {
        var g = new OnnxGraphBuilder();
        Assert.Equal("a", g.UniqueName("a"));
        Assert.Equal("a_1", g.UniqueName("a"));
        Assert.Equal("a_2", g.UniqueName("a"));
        string w = g.Initializer([1f, -2.5f], [2], "w");
        var t = g.Graph.Initializer.Single(i => i.Name == w);
        Assert.Equal(new byte[] { 0, 0, 0x80, 0x3F, 0, 0, 0x20, 0xC0 }, t.RawData.ToByteArray());
        string s = g.Int64Initializer([long.MaxValue], "s");
        Assert.Equal((int)TensorProto.Types.DataType.Int64, g.Graph.Initializer.Single(i => i.Name == s).DataType);
        Assert.Throws<ArgumentException>(() => g.Initializer([1f], [2], "bad"));
    }
}
