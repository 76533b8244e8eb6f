using System.Text.Json;
using System.Text.Json.Serialization;
using SearchToDeploy.Data.Transforms;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;
using static TorchSharp.torch;

namespace SearchToDeploy.Runs.Training;

/// <summary>
/// What a retraining checkpoint says about its network: enough to rebuild it without the options (architecture,
/// network shape, class names, input preprocessing) plus the options, history and progress.
/// </summary>
public sealed record TrainHeader
{
    public int Version { get; init; } = 1;
    public int EpochsDone { get; init; }
    public string Architecture { get; init; } = "";
    public string Space { get; init; } = "";
    public NetworkKind Network { get; init; }
    public long Channels { get; init; }
    public int Layers { get; init; }
    public bool Auxiliary { get; init; }
    public string Dataset { get; init; } = "";
    public List<string> Classes { get; init; } = [];
    public int InputSize { get; init; }
    /// <summary>Evaluation preprocessing: resize the shorter side to this (0 = none, for 32x32 datasets), then centre-crop InputSize.</summary>
    public int ResizeShorter { get; init; }
    public float[] Mean { get; init; } = [];
    public float[] Std { get; init; } = [];
    public string Options { get; init; } = "";
    public List<TrainRecord> History { get; init; } = [];
    /// <summary>The MPI ranks that trained it (1: one process; 0 in checkpoints from before data-parallel runs).</summary>
    public int Ranks { get; init; } = 1;
    /// <summary>The genotype document (genotype.json) with the training's provenance; empty in checkpoints of builds before it.</summary>
    public string Genotype { get; init; } = "";

    [JsonIgnore] public NetworkConfig NetworkConfig => new(Network, Channels, Layers, Classes.Count, Auxiliary);
    [JsonIgnore] public EvalPreprocessing Preprocessing => new(InputSize, ResizeShorter, Mean, Std);
    public Architecture ParseArchitecture() => SearchToDeploy.Nas.Architectures.Architecture.ParseText(Architecture, Space);

    /// <summary>The genotype document: the one carried since the search, or (older checkpoints) the cell alone.</summary>
    public GenotypeDocument GenotypeDocument(string source) =>
        Genotype.Length > 0 ? SearchToDeploy.Nas.Architectures.GenotypeDocument.Parse(Genotype, source) : SearchToDeploy.Nas.Architectures.GenotypeDocument.Of(ParseArchitecture());

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
