using System.Diagnostics;
using System.Net.Http.Headers;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// <c>s2d bench serve</c>: a bounded load against a running <c>s2d serve</c> (run it in another process): at each
/// concurrency, that many clients post the same image back to back for a fixed number of requests; requests/s and
/// latency percentiles.
/// </summary>
public static class ServeBenchmark
{
    public static async Task<BenchTable> Run(string url, byte[] image, string contentType, IReadOnlyList<int> concurrencies, int requests, TextWriter log)
    {
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
        var table = new BenchTable($"HTTP classify, {url}, {image.Length:N0}-byte image, {requests} requests per level", "requests/s", "p50 ms", "p99 ms", "errors");
        await Post(http, image, contentType); // warm-up
        foreach (int c in concurrencies)
        {
            var latencies = new List<double>();
            int errors = 0, next = 0;
            var total = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, c).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) <= requests)
                {
                    var w = Stopwatch.StartNew();
                    bool ok = await Post(http, image, contentType);
                    // Requests/s and the latencies are the answered requests' (a fast failure is not throughput); errors apart.
                    lock (latencies) { if (ok) latencies.Add(w.Elapsed.TotalMilliseconds); else errors++; }
                }
            }));
            double seconds = total.Elapsed.TotalSeconds;
            latencies.Sort();
            double P(double q) => Core.Percentiles.NearestRank(latencies, q);
            log.WriteLine($"concurrency {c}: {latencies.Count / seconds:0.0} requests/s, p50 {P(0.5):0.0} ms, p99 {P(0.99):0.0} ms, {errors} errors");
            table.Add($"concurrency {c}", $"{requests} requests", ("requests/s", latencies.Count / seconds), ("p50 ms", P(0.5)), ("p99 ms", P(0.99)), ("errors", errors));
        }
        return table;
    }

    /// <summary>Whether the request was answered with success; a reset connection or a timeout is an error of the run, not its end.</summary>
    private static async Task<bool> Post(HttpClient http, byte[] image, string contentType)
    {
        try
        {
            using var content = new ByteArrayContent(image);
            content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            using var r = await http.PostAsync("/v1/classify", content);
            return r.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
    }
}
