using System.Text.Json;
using System.Text.RegularExpressions;
using SearchToDeploy.Cli;
using SearchToDeploy.Deploy.Export;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;

namespace SearchToDeploy.Tests.Deploy;

/// <summary>Weights for PyTorch users: the DARTS reference names, the safetensors layout, and the export command.</summary>
public sealed class SafetensorsTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    // Every name DARTS's NetworkCIFAR / NetworkImageNet state dict can hold (model.py and operations.py).
    private static readonly Regex DartsName = new(
        @"^(stem|stem0|stem1)\.\d+\.|^cells\.\d+\.(preprocess[01]\.(op\.[12]|conv_[12]|bn)|_ops\.\d+\.(op\.[1235-7]|conv_[12]|bn))\.|^auxiliary_head\.(features\.\d+|classifier)\.|^classifier\.");

    [Theory]
    [InlineData("--keep-bn")]
    [InlineData("--parity-images", "8")]
    public void Onnx_only_options_with_safetensors_are_bad_input_not_ignored(params string[] option)
    {
        using var dir = new TempDir();
        var (code, _, err) = SearchToDeploy.Tests.Cli.CliTests.Run(["export", "--run", dir["run"], "--out", dir["m.safetensors"], "--format", "safetensors", .. option]);
        Assert.Equal(2, code);
        Assert.Contains($"{option[0]}: applies to --format onnx", err);
    }

    [Fact]
    public void A_darts_network_gets_the_reference_names_one_for_one()
    {
        using var net = NetworkFactory.Create(Architecture.ParseText(KnownGenotypes.DartsV2), new NetworkConfig(NetworkKind.Cifar, 8, 5, 10, true));
        var names = net.state_dict().Keys.ToList();
        var map = PyTorchNames.Map(names, NetworkKind.Cifar);
        Assert.Equal(names.Count, map.Values.Distinct().Count());
        Assert.All(map.Values, n => Assert.Matches(DartsName, n));
        // DARTS_V2's normal cell: edge 0 sep_conv_3x3 (op.1-3, op.5-7), edge 7 dil_conv_3x3 (op.1-3); the cell after a
        // reduction has a FactorizedReduce as preprocess0.
        foreach (var expected in new[]
                 {
                     "stem.0.weight", "stem.1.running_mean", "cells.0.preprocess0.op.1.weight", "cells.0.preprocess1.op.2.bias",
                     "cells.0._ops.0.op.1.weight", "cells.0._ops.0.op.2.weight", "cells.0._ops.0.op.3.weight", "cells.0._ops.0.op.5.weight",
                     "cells.0._ops.0.op.7.running_var", "cells.0._ops.7.op.3.weight", "cells.2.preprocess0.conv_1.weight", "cells.2.preprocess0.bn.weight",
                     "auxiliary_head.features.2.weight", "auxiliary_head.features.3.num_batches_tracked", "auxiliary_head.classifier.weight", "classifier.bias",
                 })
            Assert.Contains(expected, map.Values);

        // A skip_connect on a stride-2 input is a FactorizedReduce inside _ops: its names stay.
        var reduceSkip = PyTorchNames.Map(["cells.1.ops.0.conv_1.weight", "cells.1.ops.0.conv_2.weight", "cells.1.ops.0.bn.weight"], NetworkKind.ImageNet);
        Assert.Equal(["cells.1._ops.0.conv_1.weight", "cells.1._ops.0.conv_2.weight", "cells.1._ops.0.bn.weight"], reduceSkip.Values);

        var e = Assert.Throws<InvalidOperationException>(() => PyTorchNames.Map(["cells.0.ops.0.mystery.weight"], NetworkKind.Cifar));
        Assert.Contains("cells.0.ops.0.mystery.weight", e.Message);
    }

    [Fact]
    public void A_nas_bench_201_network_gets_xautodls_tiny_network_names_one_for_one()
    {
        // Every name xautodl's TinyNetwork state dict can hold (tiny_network.py, cells.py InferCell, cell_operations.py).
        var xautodl = new Regex(@"^stem\.[01]\.|^cells\.\d+\.(layers\.\d+\.op\.[12]|conv_[ab]\.op\.[12]|downsample\.1)\.|^lastact\.0\.|^classifier\.");
        using var net = NetworkFactory.Create(Architecture.ParseText(SearchToDeploy.Tests.Nas.NetworkTests.Nb201Best), new NetworkConfig(NetworkKind.Nb201, 8, 1, 10, false));
        var names = net.state_dict().Keys.ToList();
        var map = PyTorchNames.Map(names, NetworkKind.Nb201);
        Assert.Equal(names.Count, map.Values.Distinct().Count());
        Assert.All(map.Values, n => Assert.Matches(xautodl, n));
        // One cell per stage: cells 0, 2, 4 are InferCells, 1 and 3 ResNetBasicblocks; edge 0 (node 1 from node 0) is a 3x3 conv.
        foreach (var expected in new[]
                 {
                     "stem.0.weight", "stem.1.running_var", "cells.0.layers.0.op.1.weight", "cells.0.layers.0.op.2.bias", "cells.4.layers.5.op.2.num_batches_tracked",
                     "cells.1.conv_a.op.1.weight", "cells.3.conv_b.op.2.running_mean", "cells.1.downsample.1.weight", "lastact.0.weight", "classifier.bias",
                 })
            Assert.Contains(expected, map.Values);
        var e = Assert.Throws<InvalidOperationException>(() => PyTorchNames.Map(["body.0.edges.1.mystery.weight"], NetworkKind.Nb201));
        Assert.Contains("no xautodl reference name for the parameter 'body.0.edges.1.mystery.weight'", e.Message);
        Assert.Equal("xautodl-reference", PyTorchNames.Convention(NetworkKind.Nb201));
        Assert.Equal("darts-reference-64px", PyTorchNames.Convention(NetworkKind.ImageNet64));
    }

    [Fact]
    public void A_file_reads_back_byte_for_byte_and_a_damaged_one_is_refused()
    {
        using var dir = new TempDir();
        var tensors = new List<SafetensorsFile.Entry>
        {
            new("a.weight", "F32", [2, 3], [.. Enumerable.Range(0, 24).Select(i => (byte)i)]),
            new("a.count", "I64", [], BitConverter.GetBytes(7L)),
            new("b", "F32", [1], BitConverter.GetBytes(1.5f)),
        };
        SafetensorsFile.Write(dir["t.safetensors"], tensors, new Dictionary<string, string> { ["format"] = "pt" });
        byte[] raw = File.ReadAllBytes(dir["t.safetensors"]);
        Assert.Equal(0UL, BitConverter.ToUInt64(raw, 0) % 8);
        var (back, meta) = SafetensorsFile.Read(dir["t.safetensors"]);
        Assert.Equal("pt", meta["format"]);
        Assert.Equal(tensors.Select(t => (t.Name, t.Dtype, string.Join(",", t.Shape), Convert.ToHexString(t.Bytes))),
                     back.Select(t => (t.Name, t.Dtype, string.Join(",", t.Shape), Convert.ToHexString(t.Bytes))));

        string badHeader = "{\"a\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}";
        File.WriteAllBytes(dir["types.safetensors"], [.. BitConverter.GetBytes((ulong)badHeader.Length), .. System.Text.Encoding.UTF8.GetBytes(badHeader), 0, 0, 0, 0]);
        Assert.Contains("types.safetensors", Assert.Throws<InputException>(() => SafetensorsFile.Read(dir["types.safetensors"])).Message);
        File.WriteAllBytes(dir["cut.safetensors"], raw[..^4]);
        Assert.Contains("cut.safetensors", Assert.Throws<InputException>(() => SafetensorsFile.Read(dir["cut.safetensors"])).Message);
    }

    [Fact]
    public void Export_writes_every_tensor_of_the_run_with_its_genotype()
    {
        using var dir = new TempDir();
        var output = new StringWriter();
        Assert.Equal(0, S2dApp.Run(["export", "--run", fixture.TrainDir, "--format", "safetensors", "--out", dir["m.safetensors"]], output, output));
        var (tensors, meta) = SafetensorsFile.Read(dir["m.safetensors"]);
        using var model = SearchToDeploy.Runs.Training.TrainedModel.Load(fixture.TrainDir);
        var state = model.Network.state_dict();
        Assert.Equal(state.Count, tensors.Count);
        var ours = PyTorchNames.Map(state.Keys, model.Header.Network).ToDictionary(kv => kv.Value, kv => kv.Key);
        foreach (var t in tensors)
        {
            using var mine = state[ours[t.Name]].detach().cpu().contiguous();
            Assert.Equal(mine.bytes.ToArray(), t.Bytes);
        }
        Assert.Equal("xautodl-reference", meta["s2d.names"]); // a NAS-Bench-201 network under xautodl's TinyNetwork names
        Assert.Contains(tensors, t => t.Name == "cells.0.layers.0.op.1.weight");
        Assert.Equal(KnownGenotypes.Nb201Best, JsonDocument.Parse(meta["s2d.genotype_json"]).RootElement.GetProperty("genotype").GetString());
        Assert.True(File.Exists(dir["m.genotype.json"]));
        Assert.NotEqual(0, S2dApp.Run(["export", "--run", fixture.TrainDir, "--format", "pickle", "--out", dir["x"]], TextWriter.Null, TextWriter.Null));
    }
}
