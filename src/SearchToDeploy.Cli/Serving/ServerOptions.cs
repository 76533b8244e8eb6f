using SearchToDeploy.Deploy.Inference;

namespace SearchToDeploy.Cli.Serving;

/// <summary>
/// How <c>s2d serve</c> runs: the model, the addresses, the limits on what a request may hold (bytes, pixels), how
/// many images of more than <see cref="LargePixels"/> are decoded at once and how long a request waits for that.
/// </summary>
public sealed record ServerOptions(string ModelPath, string Urls, long MaxBodyBytes = 10 * 1024 * 1024, long MaxPixels = 40_000_000,
    int DefaultTopK = 5, OnnxExecutionProvider Provider = OnnxExecutionProvider.Auto, int Threads = 0)
{
    /// <summary>An image with more pixels than this takes one of <see cref="LargeDecodes"/> slots while it is decoded.</summary>
    public const long LargePixels = 4_000_000;

    public int LargeDecodes { get; init; } = 2;
    public TimeSpan DecodeWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Refuses settings that cannot serve, naming the option.</summary>
    public void Validate()
    {
        if (MaxBodyBytes < 1) throw new InputException($"--max-bytes {MaxBodyBytes}: expected a positive number of bytes");
        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
                throw new InputException($"--urls '{url}': expected http://host:port or https://host:port (several separated by ';')");
        if (LargeDecodes < 1) throw new InputException($"--decode-slots {LargeDecodes}: expected at least 1");
    }
}
