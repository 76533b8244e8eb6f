using Microsoft.ML.OnnxRuntime;
using Google.Protobuf;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Deploy.Onnx.Proto;
using SearchToDeploy.Nas.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Deploy;

public sealed class OnnxModelFileTests
{
    private static readonly Dictionary<string, string> Meta = new()
    {
        ["arch"] = "sep_conv_3x3|skip_connect",
        ["classes"] = "10",
        ["mean"] = "0.4914,0.4822,0.4465",
        ["note"] = "unicode ✓ and = signs",
    };

    private static ModelProto SmallModel()
    {
        torch.manual_seed(1);
        var op = new ReLUConvBN(3, 4, 3, 1, 1, new OpConfig(Affine: true));
        OnnxTestSupport.RandomizeBatchNorms(op);
        var g = new OnnxGraphBuilder();
        string x = g.AddInput(3, 8, 8);
        string y = OnnxOpExporter.Export(g, op, x, foldBatchNorm: true);
        string pooled = g.Flatten(g.GlobalAveragePool(y));
        g.AddOutput(pooled, shape: [null, 4]);
        return OnnxModelFile.CreateModel(g, Meta, "a test model");
    }

    [Fact]
    public void Metadata_and_header_round_trip_through_our_reader_and_onnx_runtime()
    {
        using var dir = new TempDir();
        string path = dir["model.onnx"];
        OnnxModelFile.Write(path, SmallModel());

        var back = OnnxModelFile.Read(path);
        Assert.Equal(8, back.IrVersion);
        Assert.Equal(17, Assert.Single(back.OpsetImport).Version);
        Assert.Equal(OnnxModelFile.ProducerName, back.ProducerName);
        Assert.Equal(OnnxModelFile.ProducerVersion, back.ProducerVersion);
        Assert.Equal(Meta, OnnxModelFile.ReadMetadata(path));

        // ONNX Runtime's own parser sees the same header and metadata (checks our field numbers against the real schema).
        using var session = new InferenceSession(path);
        var m = session.ModelMetadata;
        Assert.Equal("SearchToDeploy", m.ProducerName);
        Assert.Equal("a test model", m.Description);
        Assert.Equal(Meta, m.CustomMetadataMap);
        Assert.Equal(["input"], session.InputNames);
        Assert.Equal(["logits"], session.OutputNames);
        Assert.Equal([-1, 3, 8, 8], session.InputMetadata["input"].Dimensions);
        Assert.Equal([-1, 4], session.OutputMetadata["logits"].Dimensions);
    }

    [Fact]
    public void Write_replaces_an_existing_file_and_leaves_no_temporary_files()
    {
        using var dir = new TempDir();
        string path = dir["sub/model.onnx"];
        File.WriteAllText(dir["placeholder"], "x");
        Directory.CreateDirectory(dir["sub"]);
        File.WriteAllText(path, "old contents");
        var model = SmallModel();
        OnnxModelFile.Write(path, model);
        OnnxModelFile.Write(path, model);
        Assert.Equal(model.ToByteArray(), File.ReadAllBytes(path));
        Assert.Equal(["model.onnx"], Directory.GetFiles(dir["sub"]).Select(Path.GetFileName));
    }

    [Fact]
    public void Truncated_file_is_reported_with_its_path()
    {
        using var dir = new TempDir();
        string path = dir["model.onnx"];
        OnnxModelFile.Write(path, SmallModel());
        byte[] whole = File.ReadAllBytes(path);
        foreach (int length in new[] { 0, 1, 7, whole.Length / 3, whole.Length / 2, whole.Length - 1 })
        {
            string cut = dir[$"cut{length}.onnx"];
            File.WriteAllBytes(cut, whole[..length]);
            var e = Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Read(cut));
            Assert.IsAssignableFrom<InputException>(e);
            Assert.Contains(cut, e.Message);
            Assert.Contains("ONNX model", e.Message);
        }
    }

    [Fact]
    public void Foreign_and_missing_files_are_reported_with_their_path()
    {
        using var dir = new TempDir();
        var files = new Dictionary<string, byte[]>
        {
            ["text.onnx"] = "this is a text file, not a model\n"u8.ToArray(),
            ["json.onnx"] = """{"ir_version": 8, "graph": {}}"""u8.ToArray(),
            ["image.onnx"] = File.ReadAllBytes(TestPaths.Fixture("resample_src.png")),
        };
        foreach (var (name, bytes) in files)
        {
            File.WriteAllBytes(dir[name], bytes);
            var e = Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Read(dir[name]));
            Assert.Contains(dir[name], e.Message);
            Assert.Contains("expected", e.Message);
            // ONNX Runtime refuses it too, through the same exception type.
            var ort = Assert.Throws<OnnxFormatException>(() => new OnnxInference(dir[name], OnnxExecutionProvider.Cpu, 1));
            Assert.Contains(dir[name], ort.Message);
        }
        var missing = Assert.Throws<OnnxFormatException>(() => OnnxModelFile.Read(dir["absent.onnx"]));
        Assert.Contains("absent.onnx", missing.Message);
        Assert.Throws<OnnxFormatException>(() => new OnnxInference(dir["absent.onnx"]));
    }

    [Fact]
    public void Official_field_numbers_are_on_the_wire()
    {
        // ModelProto.ir_version is field 1 (varint): tag 0x08, value 8. TensorProto.raw_data is field 9 (tag 0x4A).
        var model = SmallModel();
        byte[] bytes = model.ToByteArray();
        Assert.Equal(new byte[] { 0x08, 0x08 }, bytes[..2]);
        var init = model.Graph.Initializer[0];
        Assert.Equal((int)TensorProto.Types.DataType.Float, init.DataType);
        Assert.Empty(init.FloatData);
        // Walk the tensor's fields: field 9, length-delimited, holds exactly the raw bytes.
        var input = new Google.Protobuf.CodedInputStream(init.ToByteArray());
        bool found = false;
        for (uint tag; (tag = input.ReadTag()) != 0;)
        {
            if (Google.Protobuf.WireFormat.GetTagFieldNumber(tag) == 9)
            {
                Assert.Equal(Google.Protobuf.WireFormat.WireType.LengthDelimited, Google.Protobuf.WireFormat.GetTagWireType(tag));
                Assert.Equal(init.RawData.ToByteArray(), input.ReadBytes().ToByteArray());
                found = true;
            }
            else input.SkipLastField();
        }
        Assert.True(found && init.RawData.Length > 0, "no raw_data (field 9) on the wire");
    }
}
