using System.Text.Json;
using System.Text.Json.Serialization;

namespace SearchToDeploy.Nas.Spaces;

/// <summary>
/// A space kind in JSON (a run's options.json, checkpoint headers) is its name, as it was when the kind was an enum,
/// so run folders written before and after it became a class compare equal on resume.
/// </summary>
public sealed class SpaceKindJsonConverter : JsonConverter<SpaceKind>
{
    public override SpaceKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string? name = reader.TokenType == JsonTokenType.StartObject
            ? JsonDocument.ParseValue(ref reader).RootElement.TryGetProperty("Name", out var n) ? n.GetString() : null
            : reader.GetString();
        return new[] { SpaceKind.DartsCell, SpaceKind.Nb201 }.FirstOrDefault(k => k.Name == name)
               ?? throw new JsonException($"space kind '{name}': expected {SpaceKind.DartsCell.Name} or {SpaceKind.Nb201.Name}");
    }

    public override void Write(Utf8JsonWriter writer, SpaceKind value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name);
}
