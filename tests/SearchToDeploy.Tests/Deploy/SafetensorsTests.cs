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
        Assert.Equal("cells.0.edges.1.x", PyTorchNames.Map(["cells.0.edges.1.x"], NetworkKind.Nb201)["cells.0.edges.1.x"]);
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
        foreach (var t in tensors)
        {
            using var mine = state[t.Name].detach().cpu().contiguous();
            Assert.Equal(mine.bytes.ToArray(), t.Bytes);
        }
        Assert.Equal("s2d", meta["s2d.names"]); // a NAS-Bench-201 network keeps s2d's names
        Assert.Equal(KnownGenotypes.Nb201Best, JsonDocument.Parse(meta["s2d.genotype_json"]).RootElement.GetProperty("genotype").GetString());
        Assert.True(File.Exists(dir["m.genotype.json"]));
        Assert.NotEqual(0, S2dApp.Run(["export", "--run", fixture.TrainDir, "--format", "pickle", "--out", dir["x"]], TextWriter.Null, TextWriter.Null));
    }
}
