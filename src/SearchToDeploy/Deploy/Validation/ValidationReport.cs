using System.Text.Json;
using System.Text.Json.Serialization;

namespace SearchToDeploy.Deploy.Validation;

public sealed record ValidationReport
{
    /// <summary>The name the report has in stage and package folders.</summary>
    public const string FileName = "validation.json";

    public string Model { get; init; } = "";
    public string Dataset { get; init; } = "";
    public string ExecutionProvider { get; init; } = "";
    public string? CudaFallbackReason { get; init; }
    public int Images { get; init; }
    /// <summary>The images of the split validated on (more than <see cref="Images"/> when a subset was; 0 in reports of earlier builds).</summary>
    public int SplitImages { get; init; }
    public int BatchSize { get; init; }
    public double Top1 { get; init; }
    public double Top5 { get; init; }
    public long Top1Correct { get; init; }
    public long Top5Correct { get; init; }
    public double ImagesPerSecond { get; init; }
    public double LatencyP50Ms { get; init; }
    public double LatencyP90Ms { get; init; }
    public double LatencyP99Ms { get; init; }
    public double? GateTop1 { get; init; }
    public double? GateTop5 { get; init; }
    /// <summary>Images whose logits were not finite numbers (NaN or infinity): counted as misses; absent when none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public long NonFiniteImages { get; init; }
    public bool Passed { get; init; }
    public List<ClassAccuracy> PerClass { get; init; } = [];
    public string Created { get; init; } = "";

    /// <summary>
    /// Whether an accuracy meets its gate (at or above it; no gate is met). The one rule the report, the gate check and
    /// the JUnit XML share; a NaN accuracy meets no gate.
    /// </summary>
    public static bool Meets(double value, double? gate) => gate is not { } g || value >= g;

    /// <summary>A dataset as a report describes it ("cifar10 (/data/cifar-10-batches-bin)"), without where it was read: its name.</summary>
    public static string DatasetNameOf(string described) => described.Split(" (")[0].Trim();

    /// <summary>
    /// Refuses a gate that is not a percentage from 0 to 100, and one of at most 1 (above 0): gates are percentages, and
    /// 0.77 (a fraction meant as 77%) would pass almost any model.
    /// </summary>
    public static void CheckGate(string name, double? gate)
    {
        if (gate is not { } g) return;
        if (!(g is >= 0 and <= 100)) throw new InputException($"{name} {g}: expected a percentage from 0 to 100");
        if (g is > 0 and <= 1)
            throw new InputException($"{name} {g}: gates are percentages (77 means 77%), and {g}% passes almost any model; give {g * 100:0.##} if {g} was a fraction, or 0 for no gate");
    }

    /// <summary>An accuracy or gate as the gate messages print it: enough decimals that two different numbers never read alike.</summary>
    public static string Percent(double value) => value.ToString("0.0#####", System.Globalization.CultureInfo.InvariantCulture) + "%";

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
