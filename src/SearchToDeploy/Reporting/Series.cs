
namespace SearchToDeploy.Reporting;

/// <summary>One line of a chart; NaN points are left out.</summary>
public sealed record Series(string Label, double[] X, double[] Y);
