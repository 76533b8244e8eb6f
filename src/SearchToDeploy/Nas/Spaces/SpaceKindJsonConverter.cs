using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace SearchToDeploy.Nas.Spaces;

/// <summary>
/// A space kind in run files (options.json, checkpoint headers) is written by the name it had when it was an enum
/// ("darts-cell", "nb201"), so folders written before it became a class compare equal on resume. Read: that name,
/// the kind's <see cref="SpaceKind.Name"/>, or the object of traits that builds of 2026-12-05 wrote.
/// </summary>
public sealed class SpaceKindJsonConverter : JsonConverter<SpaceKind>
{
    private static readonly (string Json, SpaceKind Kind)[] Names = [("darts-cell", SpaceKind.DartsCell), ("nb201", SpaceKind.Nb201)];

    public override SpaceKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string? name = reader.TokenType == JsonTokenType.StartObject
            ? JsonDocument.ParseValue(ref reader).RootElement.TryGetProperty("Name", out var n) ? n.GetString() : null
            : reader.GetString();
        return Find(name) ?? throw new JsonException($"space kind '{name}': expected {string.Join(" or ", Names.Select(k => k.Json))}");
    }

    public override void Write(Utf8JsonWriter writer, SpaceKind value, JsonSerializerOptions options) =>
        writer.WriteStringValue(Names.First(k => k.Kind == value).Json);

    /// <summary>A search's options JSON with its SearchSpace.Kind in today's form, for comparing a checkpoint's options with the current ones.</summary>
    public static string Normalise(string optionsJson)
    {
        if (JsonNode.Parse(optionsJson) is not JsonObject root || root["SearchSpace"] is not JsonObject space || space["Kind"] is not { } kind) return optionsJson;
        string? name = kind is JsonObject o ? o["Name"]?.GetValue<string>() : kind.GetValueKind() == JsonValueKind.String ? kind.GetValue<string>() : null;
        if (Find(name) is not { } found) return optionsJson;
        space["Kind"] = Names.First(k => k.Kind == found).Json;
        return root.ToJsonString();
    }

    private static SpaceKind? Find(string? name) =>
        Names.FirstOrDefault(k => k.Json == name || k.Kind.Name == name).Kind;
}
