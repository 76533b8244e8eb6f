using System.Globalization;
using System.Text.Json;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Runs.Training;
using static TorchSharp.torch;

namespace SearchToDeploy.Deploy.Export;

/// <summary>
/// <c>s2d export --format safetensors</c>: the retrained network's state dict (weights, BN statistics) for PyTorch
/// users, under the reference code's names (DARTS's, or xautodl's for NAS-Bench-201: <see cref="PyTorchNames"/>), with the genotype document and the network's
/// settings in the file's metadata and the genotype also written beside it (<c>&lt;name&gt;.genotype.json</c>).
/// </summary>
public static class SafetensorsExporter
{
    public static void Export(TrainedModel model, string run, string output, TextWriter log)
    {
        var h = model.Header;
        var state = model.Network.state_dict();
        var names = PyTorchNames.Map(state.Keys, h.Network);
        var entries = new List<SafetensorsFile.Entry>();
        foreach (var (name, tensor) in state)
        {
            using var t = tensor.detach().cpu().contiguous();
            string dtype = t.dtype switch
            {
                ScalarType.Float32 => "F32",
                ScalarType.Int64 => "I64",
                _ => throw new InvalidOperationException($"{name}: {t.dtype} tensors are not exported"),
            };
            entries.Add(new(names[name], dtype, t.shape, t.bytes.ToArray()));
        }
        string convention = PyTorchNames.Convention(h.Network);
        var genotype = h.GenotypeDocument(run).With("export", new Dictionary<string, object?>
        {
            ["format"] = "safetensors",
            ["names"] = convention,
            ["producer"] = OnnxModelFile.Producer,
        });
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["s2d.names"] = convention,
            ["s2d.network"] = RetrainNetwork.KindName(h.Network),
            ["s2d.channels"] = h.Channels.ToString(CultureInfo.InvariantCulture),
            ["s2d.layers"] = h.Layers.ToString(CultureInfo.InvariantCulture),
            ["s2d.auxiliary"] = h.Auxiliary ? "true" : "false",
            ["s2d.classes"] = JsonSerializer.Serialize(h.Classes),
            ["s2d.genotype_json"] = genotype.ToJson(),
        };
        SafetensorsFile.Write(output, entries, metadata);
        string beside = Path.ChangeExtension(output, ".genotype.json");
        GenotypeFile.Save(beside, genotype);
        long bytes = entries.Sum(e => (long)e.Bytes.Length);
        log.WriteLine($"wrote {output}: {entries.Count} tensors, {bytes / 1e6:0.00} MB, {convention} names; genotype: {beside}");
    }
}
