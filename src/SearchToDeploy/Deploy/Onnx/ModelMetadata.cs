using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SearchToDeploy.Data.Transforms;
using SearchToDeploy.Nas.Architectures;

namespace SearchToDeploy.Deploy.Onnx;

/// <summary>
/// What an exported model says about itself in its ONNX metadata (string values, JSON where structured), as one typed
/// value: written once by the export, read and checked once by everything that loads a model (validation, serving,
/// packaging), with a message naming the file and the key for anything missing or inconsistent.
/// </summary>
public sealed record ModelMetadata(
    IReadOnlyList<string> Classes,
    EvalPreprocessing Preprocessing,
    GenotypeDocument Genotype,
    string Network,
    string Dataset,
    string Metrics,
    string BatchNorm,
    string Producer)
{
    /// <summary>The metadata keys (all values strings; JSON where structured).</summary>
    public static class Keys
    {
        public const string Architecture = "s2d.architecture", Space = "s2d.space", Genotype = "s2d.genotype_json", Network = "s2d.network",
            Classes = "s2d.classes", InputSize = "s2d.input_size", ResizeShorter = "s2d.resize_shorter", Mean = "s2d.mean", Std = "s2d.std",
            Preprocessing = "s2d.preprocessing", Metrics = "s2d.metrics", Dataset = "s2d.dataset", Producer = "s2d.producer", BatchNorm = "s2d.batch_norm";
    }

    public Architecture Architecture => Genotype.Architecture;

    public Dictionary<string, string> ToDictionary()
    {
        var inv = CultureInfo.InvariantCulture;
        var p = Preprocessing;
        return new Dictionary<string, string>
        {
            [Keys.Architecture] = Architecture.Text,
            [Keys.Space] = Architecture.Space,
            [Keys.Genotype] = Genotype.ToJson(),
            [Keys.Network] = Network,
            [Keys.Classes] = JsonSerializer.Serialize(Classes),
            [Keys.InputSize] = p.InputSize.ToString(inv),
            [Keys.ResizeShorter] = p.ResizeShorter.ToString(inv),
            [Keys.Mean] = JsonSerializer.Serialize(p.Mean),
            [Keys.Std] = JsonSerializer.Serialize(p.Std),
            [Keys.Preprocessing] = p.Describe(),
            [Keys.Metrics] = Metrics,
            [Keys.Dataset] = Dataset,
            [Keys.BatchNorm] = BatchNorm,
            [Keys.Producer] = Producer,
        };
    }

    public static ModelMetadata Read(string path) => Parse(OnnxModelFile.ReadMetadata(path), path);

    /// <summary>The typed metadata of the model at <paramref name="source"/>; any problem is an <see cref="OnnxFormatException"/> naming the key.</summary>
    public static ModelMetadata Parse(IReadOnlyDictionary<string, string> meta, string source)
    {
        string Get(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new OnnxFormatException($"{source}: ONNX model without the '{key}' metadata; expected a model written by s2d export");
        T Json<T>(string key, string expected)
        {
            try { return JsonSerializer.Deserialize<T>(Get(key)) ?? throw new JsonException("null"); }
            catch (JsonException) { throw new OnnxFormatException($"{source}: metadata '{key}' is {Short(Get(key))}; expected {expected}"); }
        }
        int Int(string key)
        {
            string v = Get(key);
            return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i
                : throw new OnnxFormatException($"{source}: metadata '{key}' is {Short(v)}; expected a whole number");
        }
        var classes = Json<string[]>(Keys.Classes, "a JSON list of class names");
        if (classes.Length == 0 || classes.Any(string.IsNullOrWhiteSpace))
            throw new OnnxFormatException($"{source}: metadata '{Keys.Classes}' must list at least one non-empty class name");
        var pre = new EvalPreprocessing(Int(Keys.InputSize), Int(Keys.ResizeShorter),
            Json<float[]>(Keys.Mean, "a JSON list of 3 numbers"), Json<float[]>(Keys.Std, "a JSON list of 3 numbers"));
        if (pre.Problems() is { Count: > 0 } problems)
            throw new OnnxFormatException($"{source}: inconsistent preprocessing metadata: {string.Join("; ", problems)}");
        GenotypeDocument genotype;
        try { genotype = GenotypeDocument.Parse(Get(Keys.Genotype), $"{source} (metadata '{Keys.Genotype}')"); }
        catch (OnnxFormatException) { throw; }
        catch (InputException) when (meta.TryGetValue(Keys.Architecture, out var text))
        {
            // Models exported before the genotype contract carry a genotype_json of another layout: the cell alone.
            genotype = GenotypeDocument.Of(Architecture.ParseText(text, meta.GetValueOrDefault(Keys.Space)));
        }
        string metrics = meta.GetValueOrDefault(Keys.Metrics) ?? "{}";
        try { if (JsonNode.Parse(metrics) is not JsonObject) throw new JsonException(); }
        catch (JsonException) { throw new OnnxFormatException($"{source}: metadata '{Keys.Metrics}' is not a JSON object"); }
        return new ModelMetadata(classes, pre, genotype, meta.GetValueOrDefault(Keys.Network) ?? "", meta.GetValueOrDefault(Keys.Dataset) ?? "",
            metrics, meta.GetValueOrDefault(Keys.BatchNorm) ?? "", meta.GetValueOrDefault(Keys.Producer) ?? "");
    }

    private static string Short(string s) => s.Length <= 40 ? $"'{s}'" : $"'{s[..37]}...'";
}
