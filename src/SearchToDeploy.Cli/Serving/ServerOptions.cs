using SearchToDeploy.Deploy.Inference;

namespace SearchToDeploy.Cli.Serving;

public sealed record ServerOptions(string ModelPath, string Urls, long MaxBodyBytes = 10 * 1024 * 1024, long MaxPixels = 40_000_000,
    int DefaultTopK = 5, OnnxExecutionProvider Provider = OnnxExecutionProvider.Auto, int Threads = 0);
