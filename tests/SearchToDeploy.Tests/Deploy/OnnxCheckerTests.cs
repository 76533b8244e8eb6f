using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;
using TorchSharp;

namespace SearchToDeploy.Tests.Deploy;

/// <summary>
/// Every network kind the exporter writes passes the ONNX project's own checker (full check) and strict shape inference,
/// run by Debian's python3-onnx (installed by .ci/run), so the files stay valid ONNX as the exporter grows.
/// </summary>
public sealed class OnnxCheckerTests
{
    private const string Python = "/usr/bin/python3";

    private const string Check = """
        import sys, onnx
        from onnx import checker, shape_inference
        for path in sys.argv[1:]:
            m = onnx.load(path)
            checker.check_model(m, full_check=True)
            shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
            print("ok", path)
        """;

    [Fact]
    public void Every_exported_network_kind_passes_the_onnx_checker_and_strict_shape_inference()
    {
        using var dir = new TempDir();
        var cases = new (string Name, string Cell, NetworkKind Kind, int Channels, int Layers, int Size)[]
        {
            ("nb201", KnownGenotypes.Nb201Best, NetworkKind.Nb201, 8, 1, 32),
            ("nb201-64", KnownGenotypes.Nb201ResNet, NetworkKind.Nb201x64, 8, 1, 64),
            ("darts-cifar", KnownGenotypes.PcDartsCifar, NetworkKind.Cifar, 8, 4, 32),
            ("darts-imagenet-224", KnownGenotypes.DartsV2, NetworkKind.ImageNet, 8, 5, 224),
            ("darts-imagenet-64", KnownGenotypes.DartsV2, NetworkKind.ImageNet64, 8, 4, 64),
        };
        var files = new List<string>();
        foreach (var (name, cell, kind, c, layers, size) in cases)
            foreach (bool keepBn in new[] { false, true })
            {
                torch.manual_seed(0);
                using var net = NetworkFactory.Create(Architecture.ParseText(cell), new NetworkConfig(kind, c, layers, 10, false));
                net.eval();
                string path = dir[$"{name}-{(keepBn ? "bn" : "folded")}.onnx"];
                OnnxModelFile.Write(path, OnnxModelFile.CreateModel(NetworkExporter.Export(net, size, keepBn)));
                files.Add(path);
            }
        Assert.True(File.Exists(Python), $"{Python} not found: the ONNX checker runs on Debian's python3 with python3-onnx (apt-get install python3-onnx; .ci/run installs it)");
        File.WriteAllText(dir["check.py"], Check);
        var (code, output) = ChildProcess.Run(Python, [dir["check.py"], .. files], TimeSpan.FromMinutes(2));
        Assert.False(output.Contains("No module named 'onnx'"), "python3-onnx is not installed: apt-get install python3-onnx (.ci/run installs it)");
        Assert.True(code == 0, $"the ONNX checker refused a model:\n{output}");
        Assert.Equal(files.Count, output.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal)));
    }
}
