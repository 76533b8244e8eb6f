using System.Text.Json;
using System.Text.Json.Serialization;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// A search method: its strategy and its supernet traits. PC methods use partial channels (K) and edge normalisation;
/// RF methods keep every convolution at its random initialisation and train only BN affine parameters (and the
/// architecture). Adding a method is an entry here, its strategy (<see cref="ISearchStrategy"/>) and its settings in
/// the presets (docs/architecture.md). Written to options files by <see cref="JsonName"/>.
/// </summary>
[JsonConverter(typeof(SearchMethodJsonConverter))]
public sealed record SearchMethod(string Name, bool RandomFeatures, bool PartialChannels, Func<StrategySetup, ISearchStrategy> Strategy, string JsonName)
{
    public static readonly SearchMethod Darts = new("darts", false, false, DartsFamily, "darts");
    public static readonly SearchMethod PcDarts = new("pc-darts", false, true, DartsFamily, "pc-darts");
    public static readonly SearchMethod RfDarts = new("rf-darts", true, false, DartsFamily, "rf-darts");
    public static readonly SearchMethod RfPcDarts = new("rf-pcdarts", true, true, DartsFamily, "rf-pc-darts");
    public static readonly SearchMethod Gdas = new("gdas", false, false, s => new GdasStrategy(s), "gdas");

    public static readonly IReadOnlyList<SearchMethod> All = [Darts, PcDarts, RfDarts, RfPcDarts, Gdas];
    public static IReadOnlyList<string> Names => [.. All.Select(m => m.Name)];

    /// <summary>DARTS's step, first or second order, alternating or (first order) parallel.</summary>
    private static ISearchStrategy DartsFamily(StrategySetup s) => s.Parallel ? new ParallelStrategy(s) : new DartsStrategy(s);

    public static SearchMethod Parse(string name)
    {
        string n = name.ToLowerInvariant().Replace("_", "-");
        return All.FirstOrDefault(m => m.Name == n || m.JsonName == n || m.Name.Replace("-", "") == n.Replace("-", ""))
               ?? throw new InputException($"--method '{name}': unknown search method; expected one of {string.Join(", ", Names)}");
    }

    public override string ToString() => Name;

    public bool Equals(SearchMethod? other) => other is not null && other.Name == Name;
    public override int GetHashCode() => Name.GetHashCode(StringComparison.Ordinal);

    private sealed class SearchMethodJsonConverter : JsonConverter<SearchMethod>
    {
        public override SearchMethod Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.String ? Parse(reader.GetString()!) : throw new JsonException("a search method is a string, e.g. \"rf-pcdarts\"");

        public override void Write(Utf8JsonWriter writer, SearchMethod value, JsonSerializerOptions options) => writer.WriteStringValue(value.JsonName);
    }
}
