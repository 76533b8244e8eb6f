using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace SearchToDeploy.Runs;

/// <summary>
/// Settings files (--config): JSON or YAML (by extension) objects whose keys are the command's option names without
/// dashes ("lr", "epochs", "space", ...); the pipeline's have "search" and "train" objects inside. Values are
/// scalars. The command line overrides a file; --print-config writes the resolved settings back in the same form.
/// </summary>
public static class SettingsFile
{
    public static JsonObject Read(string path)
    {
        if (!File.Exists(path)) throw new InputException($"--config {path}: file not found");
        string text = File.ReadAllText(path);
        try
        {
            var node = IsYaml(path) ? FromYaml(text) : JsonNode.Parse(text);
            return node as JsonObject ?? throw new InputException($"{path}: expected an object of settings at the top");
        }
        catch (JsonException e) { throw new InputException($"{path}: not valid JSON ({e.Message})"); }
        catch (YamlDotNet.Core.YamlException e) { throw new InputException($"{path}: not valid YAML ({e.Message})"); }
    }

    /// <summary>The settings of an object as key/text pairs; bad input for a list or an object (settings are single values).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Scalars(JsonObject o, string source)
    {
        var list = new List<KeyValuePair<string, string>>();
        foreach (var (key, value) in o)
        {
            switch (value)
            {
                case null: break;
                case JsonObject: throw new InputException($"{source}: setting '{key}' is an object; expected a single value (these settings are flat, e.g. {{\"epochs\": 30}})");
                case JsonArray: throw new InputException($"{source}: setting '{key}' is a list; expected a single value");
                case JsonValue v:
                    list.Add(new(key, v.GetValueKind() switch
                    {
                        JsonValueKind.String => v.GetValue<string>(),
                        JsonValueKind.True => "true",
                        JsonValueKind.False => "false",
                        _ => v.ToJsonString(),
                    }));
                    break;
            }
        }
        return list;
    }

    /// <summary>The resolved settings as the file format of <paramref name="format"/> ("json" or "yaml").</summary>
    public static string Write(JsonObject settings, string format) =>
        format.Equals("yaml", StringComparison.OrdinalIgnoreCase) || format.Equals("yml", StringComparison.OrdinalIgnoreCase)
            ? ToYaml(settings, 0)
            : settings.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";

    /// <summary>A search's settings in the form s2d search --config reads (what --print-config prints).</summary>
    public static JsonObject Of(Search.SearchOptions o)
    {
        var s = new JsonObject { ["space"] = o.Space, ["method"] = o.Method.Name, ["preset"] = o.Preset, ["dataset"] = o.Dataset, ["data"] = o.DataPath, ["device"] = o.Device };
        foreach (var (k, v) in OptionTable.Settings(o)) s[k] = v?.DeepClone();
        return s;
    }

    /// <summary>A training's settings in the form s2d train --config reads; <paramref name="genotype"/> is a genotype file or string.</summary>
    public static JsonObject Of(Training.TrainOptions o, string genotype)
    {
        var s = new JsonObject
        {
            ["genotype"] = genotype, ["network"] = Nas.Networks.RetrainNetwork.KindName(o.Network), ["dataset"] = o.Dataset, ["data"] = o.DataPath,
            ["coarse-labels"] = o.CoarseLabels ? true : null,
            ["preset"] = o.Preset, ["max-madds"] = o.MaxMultiplyAdds > 0 ? o.MaxMultiplyAdds / 1e6 : null, ["device"] = o.Device,
        };
        foreach (var (k, v) in OptionTable.Settings(o)) s[k] = v?.DeepClone();
        return s;
    }

    /// <summary>The value of an option as a settings file holds it (numbers as numbers, enums by their option names).</summary>
    public static JsonNode? Value(OptionEntry entry, object? value) => value switch
    {
        null => null,
        bool b => b,
        int i => i,
        long l => l,
        double d => d,
        float f => double.Parse(f.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
        string s => s,
        _ => OptionTable.Name(entry.ValueType, value),
    };

    private static bool IsYaml(string path) => path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    private static JsonNode? FromYaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Count == 0 ? new JsonObject() : Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(
            kv.Key is YamlScalarNode k ? k.Value ?? "" : throw new YamlDotNet.Core.YamlException(kv.Key.Start, kv.Key.End, "a key that is not a plain name"),
            Convert(kv.Value)))),
        YamlSequenceNode s => new JsonArray([.. s.Children.Select(Convert)]),
        YamlScalarNode v => Scalar(v),
        _ => null,
    };

    private static JsonNode? Scalar(YamlScalarNode v)
    {
        string t = v.Value ?? "";
        if (v.Style is YamlDotNet.Core.ScalarStyle.SingleQuoted or YamlDotNet.Core.ScalarStyle.DoubleQuoted) return t;
        if (t is "" or "~" or "null") return null;
        if (t is "true" or "false") return t == "true";
        if (long.TryParse(t, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l)) return l;
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return d;
        return t;
    }

    private static string ToYaml(JsonObject o, int indent)
    {
        var sb = new System.Text.StringBuilder();
        string pad = new(' ', indent);
        foreach (var (key, value) in o)
        {
            if (value is JsonObject child) sb.Append(pad).Append(key).Append(":\n").Append(ToYaml(child, indent + 2));
            else sb.Append(pad).Append(key).Append(": ").Append(value is null ? "null" : value.GetValueKind() == JsonValueKind.String ? Quote(value.GetValue<string>()) : value.ToJsonString()).Append('\n');
        }
        return sb.ToString();
    }

    private static string Quote(string s) => s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or '/') && !double.TryParse(s, CultureInfo.InvariantCulture, out _) && s is not ("true" or "false" or "null")
        ? s : JsonSerializer.Serialize(s);
}
