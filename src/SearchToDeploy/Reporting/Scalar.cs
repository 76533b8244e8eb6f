
namespace SearchToDeploy.Reporting;

/// <summary>One scalar at one step.</summary>
public sealed record Scalar(string Tag, long Step, double Value, double WallTime);
