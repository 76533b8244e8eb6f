namespace SearchToDeploy.Deploy.Inference;

/// <summary>One image's result in <c>s2d predict</c>: its top-k classes, or why it could not be classified.</summary>
public sealed record Prediction(string Path, IReadOnlyList<(int Index, string Label, float Probability)> Top, string? Error = null);
