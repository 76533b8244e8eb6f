using System.Reflection;
using Google.Protobuf;
using SearchToDeploy.Deploy.Onnx.Proto;

namespace SearchToDeploy.Deploy.Onnx;

/// <summary>
/// ONNX model files: wraps a built graph in a ModelProto (opset 17, IR 8, producer "SearchToDeploy" and its version,
/// string metadata), writes it atomically (a temporary file in the same folder, then a rename over the target), and
/// reads a model or its metadata back with a clear <see cref="OnnxFormatException"/> for files that are not ONNX.
/// </summary>
public static class OnnxModelFile
{
    public const string ProducerName = "SearchToDeploy";

    /// <summary>The name an exported model has in stage and package folders.</summary>
    public const string DefaultName = "model.onnx";

    /// <summary>The library's informational version (e.g. "0.1.0" or "0.1.0+commit").</summary>
    public static string ProducerVersion { get; } =
        typeof(OnnxModelFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(OnnxModelFile).Assembly.GetName().Version?.ToString()
        ?? "0";

    /// <summary>Name and version, as the exports' provenance records the tool that wrote them.</summary>
    public static string Producer => $"{ProducerName} {ProducerVersion}";

    /// <summary>
    /// A model around the builder's graph (declare the graph's input and output first). The model shares the builder's
    /// GraphProto; metadata keys are written in ordinal order.
    /// </summary>
    public static ModelProto CreateModel(OnnxGraphBuilder graph, IReadOnlyDictionary<string, string>? metadata = null, string? docString = null)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (graph.Graph.Input.Count == 0 || graph.Graph.Output.Count == 0)
            throw new InvalidOperationException("the ONNX graph needs an input and an output (AddInput, AddOutput) before it becomes a model");
        var model = new ModelProto
        {
            IrVersion = OnnxGraphBuilder.IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = ProducerVersion,
            DocString = docString ?? "",
            Graph = graph.Graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxGraphBuilder.Opset });
        if (metadata is not null)
            foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    /// <summary>Writes the model to <paramref name="path"/> atomically: readers see the old file or the whole new one.</summary>
    public static void Write(string path, ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Core.Io.AtomicFile.Write(path, model.WriteTo);
    }

    /// <summary>Reads and checks a model (ir_version, an opset import and a graph with an input and an output).</summary>
    public static ModelProto Read(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new OnnxFormatException($"ONNX model file '{full}' does not exist");
        byte[] bytes = File.ReadAllBytes(full);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxFormatException(
                $"'{full}' ({bytes.Length} bytes) is not a readable ONNX model: expected a protobuf-encoded onnx.ModelProto, " +
                $"but the file is truncated or in another format ({e.Message})", e);
        }
        var missing = new List<string>();
        if (model.IrVersion <= 0) missing.Add("ir_version");
        if (model.OpsetImport.Count == 0) missing.Add("opset_import");
        if (model.Graph is null) missing.Add("graph");
        else
        {
            if (model.Graph.Input.Count == 0) missing.Add("graph inputs");
            if (model.Graph.Output.Count == 0) missing.Add("graph outputs");
        }
        if (missing.Count > 0)
            throw new OnnxFormatException(
                $"'{full}' ({bytes.Length} bytes) is not a complete ONNX model: expected an onnx.ModelProto with ir_version, " +
                $"opset_import and a graph with inputs and outputs, but {string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} missing " +
                "(truncated, or not an ONNX file)");
        return model;
    }

    /// <summary>The model's metadata_props as a dictionary (a repeated key keeps its last value).</summary>
    public static IReadOnlyDictionary<string, string> Metadata(ModelProto model)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in model.MetadataProps) d[p.Key] = p.Value;
        return d;
    }

    /// <summary>Reads the model at <paramref name="path"/> (checked as in <see cref="Read"/>) and returns its metadata.</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path) => Metadata(Read(path));
}
