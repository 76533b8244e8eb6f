namespace SearchToDeploy.Core;

/// <summary>Percentiles of measured values (latencies), one rule for every report.</summary>
public static class Percentiles
{
    /// <summary>The nearest-rank <paramref name="q"/>-quantile (0..1) of values sorted ascending; NaN when there are none.</summary>
    public static double NearestRank(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}
