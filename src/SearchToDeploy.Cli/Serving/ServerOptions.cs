using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Inference;

namespace SearchToDeploy.Cli.Serving;

/// <summary>
/// How <c>s2d serve</c> runs: the model and the name it is served under, the addresses, the limits on what a request may
/// hold (bytes, pixels, images), how many images of more than <see cref="LargePixels"/> are decoded at once and how long
/// a request waits for that, and dynamic batching (<see cref="Batching"/>; a maximum batch of 1 turns it off).
/// </summary>
public sealed record ServerOptions(string ModelPath, string Urls, long MaxBodyBytes = 10 * 1024 * 1024, long MaxPixels = ImageDecoder.DefaultMaxPixels,
    int DefaultTopK = 5, OnnxExecutionProvider Provider = OnnxExecutionProvider.Auto, int Threads = 0)
{
    /// <summary>An image with more pixels than this takes one of <see cref="LargeDecodes"/> slots while it is decoded.</summary>
    public const long LargePixels = 4_000_000;

    public int LargeDecodes { get; init; } = 2;
    /// <summary>Images decoded at once, whatever their size (each holds the decoder's buffers): twice the cores, at least 4 and <see cref="LargeDecodes"/>.</summary>
    public int Decodes { get; init; } = Math.Max(4, 2 * Environment.ProcessorCount);
    public TimeSpan DecodeWait { get; init; } = TimeSpan.FromSeconds(10);
    public BatchSettings Batching { get; init; } = new();
    /// <summary>Images one Open Inference Protocol request may carry.</summary>
    public int MaxImagesPerRequest { get; init; } = 64;
    /// <summary>The model's name in /v2/models/{name} (default: its package folder, or the file name without .onnx).</summary>
    public string? Name { get; init; }
    /// <summary>ONNX Runtime's CPU memory arena (off by default for serving: memory goes back after a burst).</summary>
    public bool MemoryArena { get; init; }
    /// <summary>One JSON line per request on the server's output.</summary>
    public bool AccessLog { get; init; } = true;

    public string ModelName => Name ?? (Path.GetFileName(ModelPath) == "model.onnx" && Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(ModelPath))) is { Length: > 0 } folder
        ? folder : Path.GetFileNameWithoutExtension(ModelPath));

    /// <summary>Refuses settings that cannot serve, naming the option.</summary>
    public void Validate()
    {
        if (MaxBodyBytes < 1) throw new InputException($"--max-bytes {MaxBodyBytes}: expected a positive number of bytes");
        foreach (var url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
                throw new InputException($"--urls '{url}': expected http://host:port or https://host:port (several separated by ';')");
        if (LargeDecodes < 1) throw new InputException($"--decode-slots {LargeDecodes}: expected at least 1");
        if (ModelName.Length == 0 || ModelName.Any(c => char.IsWhiteSpace(c) || c is '/' or '?' or '#'))
            throw new InputException($"--name '{ModelName}': expected a name without spaces, '/', '?' or '#'");
        Batching.Validate();
    }
}
