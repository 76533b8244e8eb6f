using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Deploy.Onnx;

namespace SearchToDeploy.Cli.Serving;

/// <summary>
/// <c>s2d serve</c>: an exported model over HTTP. POST /v1/classify takes JPEG or PNG bytes (Content-Type image/jpeg,
/// image/png or application/octet-stream) and returns the top-k labels and probabilities; GET /v1/model returns the
/// model's metadata; GET /healthz; GET / is a page to upload an image. Bad requests get a JSON error with a 4xx status
/// (400 empty or undecodable, 413 too large in bytes or pixels, 415 wrong content type, 503 busy); any other failure
/// is a JSON 500 with a log line. One ONNX Runtime session serves all requests. Memory stays bounded: images are
/// decoded at the size the model needs (never a full-size buffer for a large JPEG or a row-decodable PNG), and at most
/// <see cref="ServerOptions.LargeDecodes"/> large images are decoded at once; a request that waits too long for a slot
/// gets 503 with Retry-After.
/// </summary>
public static class ModelServer
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
    private static readonly string[] ImageTypes = ["image/jpeg", "image/png", "application/octet-stream"];

    public static WebApplication Build(ServerOptions o, DeployedModel model, TextWriter log)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "yyyy-MM-ddTHH:mm:ss "; });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(o.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = o.MaxBodyBytes);
        var app = builder.Build();
        var info = ModelInfo(model);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("s2d.serve");
        var largeDecodes = new SemaphoreSlim(o.LargeDecodes);
        int fitSide = model.ResizeShorter > 0 ? model.ResizeShorter : model.InputSize;

        // Memory a burst of requests left behind goes back to the system once the server is idle: a blocking, compacting
        // collection that decommits what it frees, then the C heap's free pages.
        var idle = new IdleCollector(TimeSpan.FromSeconds(2));
        app.Lifetime.ApplicationStopping.Register(idle.Dispose);

        // Any failure no handler turned into a 4xx: a JSON 500 and a log line, never an empty body.
        app.Use(async (context, next) =>
        {
            idle.RequestStarted();
            try { await next(context); }
            catch (Exception e) when (!context.Response.HasStarted)
            {
                logger.LogError("{Method} {Path}: 500 {Type}: {Message}", context.Request.Method, context.Request.Path, e.GetType().Name, Core.Torch.NativeErrors.Message(e));
                context.Response.Clear();
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                await context.Response.WriteAsJsonAsync(new { error = $"internal error: {e.GetType().Name}: {Core.Torch.NativeErrors.Message(e)}", status = 500 }, Json);
            }
            finally { idle.RequestEnded(); }
        });

        app.MapGet("/healthz", () => Results.Json(new { status = "ok", model = Path.GetFileName(model.Path), execution_provider = model.Provider.Name() }, Json));
        app.MapGet("/v1/model", () => Results.Json(info, Json));
        app.MapGet("/", () => Results.Content(UploadPage.Html(info), "text/html; charset=utf-8"));
        app.MapPost("/v1/classify", async (HttpRequest request) =>
        {
            string type = (request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
            if (!ImageTypes.Contains(type))
                return Error(StatusCodes.Status415UnsupportedMediaType, $"Content-Type '{request.ContentType}' is not accepted; send the image bytes as image/jpeg, image/png or application/octet-stream");
            int k = o.DefaultTopK;
            if (request.Query.TryGetValue("top", out var topText) && (!int.TryParse(topText, out k) || k < 1))
                return Error(StatusCodes.Status400BadRequest, $"top={topText}: expected a positive integer");
            byte[] body;
            try { body = await ReadBody(request, o.MaxBodyBytes); }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return Error(StatusCodes.Status413PayloadTooLarge, $"the image is over the limit of {o.MaxBodyBytes:N0} bytes");
            }
            if (body.Length == 0) return Error(StatusCodes.Status400BadRequest, "empty body; send the bytes of a JPEG or PNG image");
            var watch = Stopwatch.StartNew();
            RgbImage image;
            try
            {
                var (w, h) = ImageDecoder.ReadSize(body, "request body");
                if ((long)w * h > o.MaxPixels) throw new ImageTooLargeException("request body", $"{w}x{h} pixels is over the limit of {o.MaxPixels:N0}");
                bool large = (long)w * h > ServerOptions.LargePixels;
                if (large && !await largeDecodes.WaitAsync(o.DecodeWait))
                {
                    request.HttpContext.Response.Headers.RetryAfter = "1";
                    return Error(StatusCodes.Status503ServiceUnavailable, $"busy decoding other large images ({o.LargeDecodes} at a time); retry shortly");
                }
                try { image = ImageDecoder.Decode(body, "request body", o.MaxPixels, fitSide); }
                finally
                {
                    if (large)
                    {
                        largeDecodes.Release();
                        Core.Torch.NativeAllocator.Trim(); // give the decoder's freed pages back to the system now
                    }
                }
            }
            catch (ImageTooLargeException e) { return Error(StatusCodes.Status413PayloadTooLarge, e.Message); }
            catch (ImageDecodeException e) { return Error(StatusCodes.Status400BadRequest, e.Message); }
            var top = model.Classify(image, Math.Min(k, model.Classes.Count));
            return Results.Json(new
            {
                model = Path.GetFileName(model.Path),
                width = image.Width,
                height = image.Height,
                predictions = top.Select(p => new { label = p.Label, index = p.Index, probability = p.Probability }),
                milliseconds = Math.Round(watch.Elapsed.TotalMilliseconds, 2),
            }, Json);
        });
        app.MapFallback((HttpContext c) => Error(StatusCodes.Status404NotFound, $"no route {c.Request.Method} {c.Request.Path}; see GET / for the API"));
        log.WriteLine($"serving {model.Path} ({model.Classes.Count} classes, {model.Provider.Name()}) on {o.Urls}: POST /v1/classify, GET /v1/model, GET /healthz, GET /");
        return app;
    }

    /// <summary>
    /// The request body in one array of its announced length (no growing copies), or read to the end when no length is
    /// announced. A body announced over the limit is never buffered: the first read makes Kestrel refuse it (413).
    /// </summary>
    private static async Task<byte[]> ReadBody(HttpRequest request, long limit)
    {
        if (request.ContentLength > limit)
        {
            await request.Body.ReadExactlyAsync(new byte[1]);
            throw new BadHttpRequestException("over the limit", StatusCodes.Status413PayloadTooLarge);
        }
        if (request.ContentLength is { } length)
        {
            var body = new byte[length];
            await request.Body.ReadExactlyAsync(body);
            return body;
        }
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return buffer.Length <= limit ? buffer.ToArray() : throw new BadHttpRequestException("over the limit", StatusCodes.Status413PayloadTooLarge);
    }

    private static IResult Error(int status, string message) => Results.Json(new { error = message, status }, Json, statusCode: status);

    private static Dictionary<string, object?> ModelInfo(DeployedModel m)
    {
        var info = new Dictionary<string, object?>
        {
            ["file"] = Path.GetFileName(m.Path),
            ["execution_provider"] = m.Provider.Name(),
            ["input"] = new { name = "input", shape = new object[] { "N", 3, m.InputSize, m.InputSize } },
            ["classes"] = m.Classes,
        };
        foreach (var (key, value) in m.Metadata)
        {
            if (key == ModelMetadata.Keys.Classes) continue;
            string name = key.StartsWith("s2d.", StringComparison.Ordinal) ? key[4..] : key;
            info[name] = value.StartsWith('{') || value.StartsWith('[') ? JsonSerializer.Deserialize<JsonElement>(value) : value;
        }
        return info;
    }
}
