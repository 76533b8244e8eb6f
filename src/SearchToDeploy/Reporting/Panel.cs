using ScottPlot;

namespace SearchToDeploy.Reporting;

/// <summary>One chart panel: a title and its lines.</summary>
public sealed record Panel(string Title, IReadOnlyList<Series> Lines, string XLabel = "epoch", Alignment Legend = Alignment.UpperRight);
