using System.Diagnostics;
using System.Net.Http.Headers;
using SkiaSharp;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// <c>s2d bench serve --soak</c>: a mixed stream against a running <c>s2d serve</c> at one concurrency: ordinary images,
/// images of a large size (a 6300x6300 PNG that compresses to little, a 5000x5000 JPEG), corrupt bytes and bodies over
/// the server's limit. Reports requests/s, p99, the answers by status (no 5xx expected) and, given the server's
/// process id, its resident memory before, at the peak and after the stream.
/// </summary>
public static class ServeSoak
{
    public sealed record Kind(string Name, byte[] Body, string ContentType, int Weight);

    /// <summary>How long the server is left idle before its memory is read, after the warm-up and after the stream.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    /// <summary>The request kinds and their shares of the stream (per 20 requests).</summary>
    public static IReadOnlyList<Kind> Mix(byte[] ordinary, string ordinaryType, long maxBytes)
    {
        var rng = new Random(7);
        var corrupt = new byte[4096];
        rng.NextBytes(corrupt);
        corrupt[0] = 0xFF; corrupt[1] = 0xD8; // a JPEG's start, then noise
        var oversized = new byte[checked((int)Math.Min(maxBytes + 1024, int.MaxValue))];
        return
        [
            new("ordinary", ordinary, ordinaryType, 14),
            new("large PNG 6300x6300", Encode(6300, 6300, SKEncodedImageFormat.Png), "image/png", 2),
            new("large JPEG 5000x5000", Encode(5000, 5000, SKEncodedImageFormat.Jpeg), "image/jpeg", 1),
            new("corrupt", corrupt, "image/jpeg", 2),
            new("oversized body", oversized, "image/jpeg", 1),
        ];
    }

    private static byte[] Encode(int width, int height, SKEncodedImageFormat format)
    {
        using var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bmp))
        {
            canvas.Clear(new SKColor(90, 140, 200));
            using var paint = new SKPaint { Color = new SKColor(240, 200, 40) };
            canvas.DrawCircle(width / 2f, height / 2f, width / 4f, paint);
        }
        using var data = bmp.Encode(format, 80);
        return data.ToArray();
    }

    public static async Task<BenchTable> Run(string url, IReadOnlyList<Kind> mix, int concurrency, int requests, int? serverPid, TextWriter log)
    {
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.ExpectContinue = true; // as curl does for large bodies: a refused body is never sent
        foreach (var k in mix) await Post(http, k); // warm-up: one of each
        await Task.Delay(Settle); // an idle server gives back what a burst left (s2d serve: after 2 s)
        long before = serverPid is { } p0 ? ProcessMemory.ResidentBytes(p0) : 0, peak = before;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && serverPid is { } pid)
            {
                long now = ProcessMemory.ResidentBytes(pid);
                if (now > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, now);
                try { await Task.Delay(50, stop.Token); } catch (TaskCanceledException) { }
            }
        });
        var order = new List<Kind>();
        foreach (var k in mix) order.AddRange(Enumerable.Repeat(k, k.Weight));
        var statuses = new Dictionary<int, int>();
        var latencies = new List<double>();
        int next = 0;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= requests)
            {
                var w = Stopwatch.StartNew();
                int status = await Post(http, order[i % order.Count]);
                lock (latencies)
                {
                    latencies.Add(w.Elapsed.TotalMilliseconds);
                    statuses[status] = statuses.GetValueOrDefault(status) + 1;
                }
            }
        }));
        double seconds = total.Elapsed.TotalSeconds;
        await Task.Delay(Settle);
        stop.Cancel();
        await sampler;
        long after = serverPid is { } p1 ? ProcessMemory.ResidentBytes(p1) : 0;
        latencies.Sort();
        double p99 = Core.Percentiles.NearestRank(latencies, 0.99);
        int fiveXx = statuses.Where(kv => kv.Key >= 500).Sum(kv => kv.Value), unanswered = statuses.GetValueOrDefault(0);
        string answers = string.Join(", ", statuses.OrderBy(kv => kv.Key).Select(kv => $"{(kv.Key == 0 ? "no answer" : kv.Key.ToString())}: {kv.Value}"));
        log.WriteLine($"soak: {requests} requests at concurrency {concurrency} in {seconds:0.0} s ({requests / seconds:0.0}/s), p99 {p99:0} ms; answers {answers}" +
                      (serverPid is null ? "" : $"; server memory {before / 1e6:0} MB before, {peak / 1e6:0} MB peak, {after / 1e6:0} MB after"));
        string[] memory = serverPid is null ? [] : ["memory before (MB)", "peak (MB)", "after (MB)"]; // measured only with --server-pid
        var table = new BenchTable($"HTTP soak, {url}: {string.Join(", ", mix.Select(k => $"{k.Name} {k.Weight}/{mix.Sum(x => x.Weight)}"))}, concurrency {concurrency}",
            ["requests/s", "p99 ms", "5xx", "no answer", .. memory]);
        table.Add($"{requests} requests", answers, [("requests/s", requests / seconds), ("p99 ms", p99), ("5xx", fiveXx), ("no answer", unanswered),
            .. memory.Zip(new[] { before / 1e6, peak / 1e6, after / 1e6 })]);
        return table;
    }

    /// <summary>Posts one request; its status code (0 when the connection failed).</summary>
    private static async Task<int> Post(HttpClient http, Kind k)
    {
        try
        {
            using var content = new ByteArrayContent(k.Body);
            content.Headers.ContentType = new MediaTypeHeaderValue(k.ContentType);
            using var r = await http.PostAsync("/v1/classify", content);
            return (int)r.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return 0; } // no answer, or none in time: counted, not fatal
    }
}
