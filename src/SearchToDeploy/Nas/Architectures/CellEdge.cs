
namespace SearchToDeploy.Nas.Architectures;

/// <summary>One chosen edge of a DARTS-style cell: an op applied to an input (0 = c_{k-2}, 1 = c_{k-1}, 2.. = nodes).</summary>
public sealed record CellEdge(string Op, int Input);
