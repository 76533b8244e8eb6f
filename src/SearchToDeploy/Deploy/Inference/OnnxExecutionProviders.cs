
namespace SearchToDeploy.Deploy.Inference;

public static class OnnxExecutionProviders
{
    /// <summary>Parses "auto", "cuda" or "cpu" (any case); anything else is an <see cref="InputException"/>.</summary>
    public static OnnxExecutionProvider Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => OnnxExecutionProvider.Auto,
        "cuda" => OnnxExecutionProvider.Cuda,
        "cpu" => OnnxExecutionProvider.Cpu,
        _ => throw new InputException($"execution provider '{text}': expected auto, cuda or cpu"),
    };

    public static string Name(this OnnxExecutionProvider provider) => provider.ToString().ToLowerInvariant();
}
