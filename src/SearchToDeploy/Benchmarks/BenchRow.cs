
namespace SearchToDeploy.Benchmarks;

/// <summary>One measured row of a benchmark: a name, its settings and named figures.</summary>
public sealed record BenchRow(string Name, string Settings, IReadOnlyDictionary<string, double> Figures);
