using System.Text.Json;
using System.Text.Json.Nodes;
using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Nas.Architectures;

/// <summary>
/// The genotype contract: one JSON document that travels unchanged from the search's run folder into the training
/// folder, the ONNX model's metadata and the package, each stage appending its provenance. Version 2:
/// <code>
/// { "format": "s2d-genotype", "version": 2, "space": "darts",
///   "genotype": "Genotype(normal=[...], ...)",            // the published string form (NAS-Bench-201: "|op~0|+...")
///   "normal": [["sep_conv_3x3", 1], ...], "normal_concat": [2, 3, 4, 5], "reduce": [...], "reduce_concat": [...],
///   "provenance": [ { "stage": "search", "method": "rf-pcdarts", "seed": 2, ... }, { "stage": "train", ... }, ... ] }
/// </code>
/// Both cell kinds share the schema: a cell is a list of [op, input] pairs, a NAS-Bench-201 cell its six edges in
/// benchmark order (node 1's input 0; node 2's inputs 0, 1; node 3's inputs 0, 1, 2) with no reduction cell or concat.
/// The structured cell is the source of truth; a "genotype" string that disagrees with it is an error. Version 1
/// (NAS-Bench-201 cells as an "arch" string, provenance one object) still loads. Provenance holds no times or paths,
/// so the same run gives the same document.
/// </summary>
public sealed record GenotypeDocument(Architecture Architecture, IReadOnlyList<JsonObject> Provenance)
{
    public const string Format = "s2d-genotype";
    public const int Version = 2;

    public static GenotypeDocument Of(Architecture architecture) => new(architecture, []);

    /// <summary>This document with one more provenance entry: <c>{"stage": stage, ...entry}</c>.</summary>
    public GenotypeDocument With(string stage, IReadOnlyDictionary<string, object?> entry)
    {
        var o = new JsonObject { ["stage"] = stage };
        foreach (var (k, v) in entry) o[k] = JsonSerializer.SerializeToNode(v);
        return this with { Provenance = [.. Provenance.Select(p => (JsonObject)p.DeepClone()), o] };
    }

    /// <summary>The provenance entry of a stage, if the document has one (the last, if several).</summary>
    public JsonObject? Stage(string stage) => Provenance.LastOrDefault(p => p["stage"]?.GetValueKind() == JsonValueKind.String && p["stage"]!.GetValue<string>() == stage);

    public string ToJson()
    {
        var arch = Architecture;
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
        else root["normal"] = Edges([.. Nb201CellKind.EdgeKeys.Select((k, e) => new CellEdge(arch.Nb201!.EdgeOps[e], k.From))]);
        root["provenance"] = new JsonArray([.. Provenance.Select(p => (JsonNode)p.DeepClone())]);
        return root.ToJsonString(Options) + "\n";
    }

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static JsonArray Edges(IEnumerable<CellEdge> edges) => new([.. edges.Select(e => (JsonNode)new JsonArray(e.Op, e.Input))]);

    /// <summary>Parses a document; every problem is an <see cref="InputException"/> naming <paramref name="source"/> and the field.</summary>
    public static GenotypeDocument Parse(string json, string source)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json); }
        catch (JsonException e) { throw new InputException($"{source}: not valid JSON ({e.Message})"); }
        if (root is not JsonObject o) throw new InputException($"{source}: expected a JSON object (a genotype.json written by s2d)");
        if (Text(o, "format", source) != Format)
            throw new InputException($"{source}: \"format\" is not \"{Format}\"; not a SearchToDeploy genotype file");
        if (!o.ContainsKey("version")) throw new InputException($"{source}: \"version\" is missing; expected {Version}");
        int version = Int(o["version"], "version", source);
        if (version is not (1 or Version)) throw new InputException($"{source}: genotype file version {version}; this s2d reads versions 1 and {Version}");
        string space = Text(o, "space", source);
        Architecture arch;
        if (version == 1 && o["arch"] is not null) arch = Architecture.FromNb201(Nb201Arch.Parse(Text(o, "arch", source)));
        else if (Spaces.SearchSpaces.TryGet(space)?.Kind == Spaces.SpaceKind.Nb201)
        {
            var edges = ReadEdges(o, "normal", source);
            if (edges.Count != Nb201Arch.EdgeCount || edges.Select(e => e.Input).Where((input, e) => input != Nb201CellKind.EdgeKeys[e].From).Any())
                throw new InputException($"{source}: \"normal\" of a NAS-Bench-201 cell is its {Nb201Arch.EdgeCount} edges as [op, input] pairs with inputs 0, 0, 1, 0, 1, 2");
            var cell = new Nb201Arch([.. edges.Select(e => e.Op)]);
            Architecture.ParseText(cell.ToString()); // checks the op names
            arch = Architecture.FromNb201(cell);
        }
        else
        {
            var g = new DartsGenotype(ReadEdges(o, "normal", source), ReadInts(o, "normal_concat", source),
                ReadEdges(o, "reduce", source), ReadInts(o, "reduce_concat", source));
            g.Validate(source);
            arch = Architecture.FromCell(space, g);
        }
        if (o["genotype"] is { } text && Text(o, "genotype", source).Trim() != arch.Text)
            throw new InputException($"{source}: \"genotype\" string disagrees with the structured cell; expected \"{arch.Text}\"");
        var provenance = o["provenance"] switch
        {
            null => [],
            JsonObject one => [WithStage((JsonObject)one.DeepClone(), "search")], // version 1: the search's entry
            JsonArray list => list.Select((p, i) => p as JsonObject ?? throw new InputException($"{source}: provenance[{i}] is not an object")).Select(p => (JsonObject)p.DeepClone()).ToList(),
            _ => throw new InputException($"{source}: \"provenance\" is neither a list of stage entries nor an object"),
        };
        return new GenotypeDocument(arch, provenance);
    }

    private static JsonObject WithStage(JsonObject o, string stage)
    {
        if (!o.ContainsKey("stage")) o.Insert(0, "stage", stage);
        return o;
    }

    private static string Text(JsonObject o, string name, string source) =>
        o[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>()
            : throw new InputException($"{source}: \"{name}\" must be a string{(o[name] is null ? " and is missing" : $", not {Kind(o[name])}")}");

    private static int Int(JsonNode? n, string what, string source) =>
        n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out int i) ? i
            : throw new InputException($"{source}: {what} must be a whole number, not {Kind(n)}");

    private static string Kind(JsonNode? n) => n is null ? "null" : n.GetValueKind().ToString().ToLowerInvariant();

    private static List<CellEdge> ReadEdges(JsonObject o, string name, string source)
    {
        if (o[name] is not JsonArray arr) throw new InputException($"{source}: \"{name}\" must be a list of [op, input] pairs{(o[name] is null ? " and is missing" : "")}");
        var list = new List<CellEdge>();
        for (int i = 0; i < arr.Count; i++)
        {
            if (arr[i] is not JsonArray pair || pair.Count != 2 || pair[0] is not JsonValue op || op.GetValueKind() != JsonValueKind.String)
                throw new InputException($"{source}: {name}[{i}] must be an [op, input] pair: an op name and a whole number");
            list.Add(new CellEdge(op.GetValue<string>(), Int(pair[1], $"{name}[{i}]'s input", source)));
        }
        return list;
    }

    private static List<int> ReadInts(JsonObject o, string name, string source) =>
        o[name] is JsonArray arr ? [.. arr.Select((n, i) => Int(n, $"{name}[{i}]", source))]
            : throw new InputException($"{source}: \"{name}\" must be a list of node indices{(o[name] is null ? " and is missing" : "")}");
}
