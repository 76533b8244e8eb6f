using System.Text.Json;
using System.Text.Json.Nodes;
using SearchToDeploy.Core.Io;

namespace SearchToDeploy.Nas.Architectures;

/// <summary>
/// The versioned genotype.json a search writes into its run folder and retraining/export read back:
/// <code>
/// { "format": "s2d-genotype", "version": 1, "space": "darts",
///   "genotype": "Genotype(normal=[...], ...)",               // the published string form
///   "normal": [["sep_conv_3x3", 1], ...], "normal_concat": [2, 3, 4, 5], "reduce": [...], "reduce_concat": [...],
///   "provenance": { "method": "rf-pcdarts", "dataset": "cifar10", "seed": 2, ... } }
/// </code>
/// For NAS-Bench-201 the cell is the "arch" string (and "genotype" repeats it). The structured fields are the
/// source of truth; a "genotype" string that disagrees with them is an error.
/// </summary>
public static class GenotypeFile
{
    public const string Format = "s2d-genotype";
    public const int Version = 1;

    public static void Save(string path, Architecture arch, IReadOnlyDictionary<string, object?>? provenance = null)
    {
        var root = new JsonObject
        {
            ["format"] = Format,
            ["version"] = Version,
            ["space"] = arch.Space,
            ["genotype"] = arch.Text,
        };
        if (arch.Cell is { } g)
        {
            root["normal"] = Edges(g.Normal);
            root["normal_concat"] = new JsonArray([.. g.NormalConcat.Select(i => (JsonNode)i)]);
            root["reduce"] = Edges(g.Reduce);
            root["reduce_concat"] = new JsonArray([.. g.ReduceConcat.Select(i => (JsonNode)i)]);
        }
        else root["arch"] = arch.Nb201!.ToString();
        if (provenance is not null)
            root["provenance"] = JsonSerializer.SerializeToNode(provenance);
        AtomicFile.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions
        {
            WriteIndented = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }) + "\n");
    }

    private static JsonArray Edges(IReadOnlyList<CellEdge> edges) =>
        new([.. edges.Select(e => (JsonNode)new JsonArray(e.Op, e.Input))]);

    /// <summary>A genotype.json path, or a genotype string in either published form.</summary>
    public static Architecture LoadFileOrText(string argument, string? space = null)
    {
        if (File.Exists(argument)) return Load(argument);
        string t = argument.TrimStart();
        if (t.StartsWith("Genotype", StringComparison.Ordinal) || t.StartsWith('|')) return Architecture.ParseText(t, space);
        if (argument.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || argument.Contains('/'))
            throw new InputException($"{argument}: genotype file not found");
        return Architecture.ParseText(t, space);
    }

    public static Architecture Load(string path)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InputException($"{path}: not valid JSON ({e.Message})"); }
        if (root is not JsonObject o) throw new InputException($"{path}: expected a JSON object");
        if (o["format"]?.GetValue<string>() != Format)
            throw new InputException($"{path}: \"format\" is not \"{Format}\"; not a SearchToDeploy genotype file");
        int version = o["version"]?.GetValue<int>() ?? 0;
        if (version != Version) throw new InputException($"{path}: genotype file version {version}; this s2d reads version {Version}");
        string space = o["space"]?.GetValue<string>() ?? throw new InputException($"{path}: missing \"space\"");
        try
        {
            Architecture arch;
            if (o["arch"] is { } a) arch = Architecture.FromNb201(Nb201Arch.Parse(a.GetValue<string>()));
            else
            {
                var g = new DartsGenotype(ReadEdges(o, "normal", path), ReadInts(o, "normal_concat", path),
                    ReadEdges(o, "reduce", path), ReadInts(o, "reduce_concat", path));
                g.Validate(path);
                arch = Architecture.FromCell(space, g);
            }
            if (o["genotype"]?.GetValue<string>() is { } text && text.Trim() != arch.Text)
                throw new InputException($"{path}: \"genotype\" string disagrees with the structured cell; expected \"{arch.Text}\"");
            return arch;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InputException($"{path}: malformed genotype ({e.Message})");
        }
    }

    private static List<CellEdge> ReadEdges(JsonObject o, string name, string path)
    {
        if (o[name] is not JsonArray arr) throw new InputException($"{path}: missing \"{name}\" list of [op, input] pairs");
        var list = new List<CellEdge>();
        for (int i = 0; i < arr.Count; i++)
        {
            if (arr[i] is not JsonArray pair || pair.Count != 2)
                throw new InputException($"{path}: {name}[{i}] is not an [op, input] pair");
            list.Add(new CellEdge(pair[0]!.GetValue<string>(), pair[1]!.GetValue<int>()));
        }
        return list;
    }

    private static List<int> ReadInts(JsonObject o, string name, string path) =>
        o[name] is JsonArray arr ? [.. arr.Select(n => n!.GetValue<int>())] : throw new InputException($"{path}: missing \"{name}\" list");
}
