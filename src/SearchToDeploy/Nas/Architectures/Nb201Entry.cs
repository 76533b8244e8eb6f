
namespace SearchToDeploy.Nas.Architectures;

/// <summary>One architecture's row of a NAS-Bench-201 accuracy table (percent; null where the table has no value).</summary>
public sealed record Nb201Entry(int Index, string Arch, IReadOnlyDictionary<string, double?> Accuracies);
