using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Deploy.Onnx;

namespace SearchToDeploy.Cli.Serving;

/// <summary>
/// <c>s2d serve</c>: an exported model over HTTP. POST /v1/classify takes JPEG or PNG bytes (Content-Type image/jpeg,
/// image/png, application/octet-stream, or a multipart/form-data upload) and returns the top-k labels and probabilities;
/// GET /v1/model returns the model's metadata; GET /healthz; GET / is a page to upload an image. The Open Inference
/// Protocol's /v2 endpoints (<see cref="OpenInference"/>) serve the same model; GET /metrics reports in Prometheus's
/// format and GET /openapi.json describes the API. Concurrent requests are batched into one ONNX Runtime run
/// (<see cref="InferenceBatcher"/>) behind a bounded queue (503 with Retry-After when full). Bad requests get a JSON
/// error with a 4xx status (400 empty or undecodable, 413 too large in bytes or pixels, 415 wrong content type, 503
/// busy); any other failure is a JSON 500 with a log line; a request whose client went away is logged as 499 and dropped
/// from the batcher's queue; every request is one JSON line on the output. Memory stays bounded: images are decoded at
/// the size the model needs, at most <see cref="ServerOptions.Decodes"/> at once and of them at most
/// <see cref="ServerOptions.LargeDecodes"/> large ones. On SIGTERM the server stops listening, finishes the requests in
/// flight, then exits.
/// </summary>
public static class ModelServer
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
    private static readonly string[] ImageTypes = ["image/jpeg", "image/png", "application/octet-stream"];

    public static WebApplication Build(ServerOptions o, DeployedModel model, TextWriter log, double modelLoadSeconds = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(c => { c.SingleLine = true; c.TimestampFormat = "yyyy-MM-ddTHH:mm:ss "; });
        // Warnings and errors on the error stream: the output is the access log, one JSON object a line, for log shippers.
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(c => c.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(o.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = o.MaxBodyBytes);
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(30));
        var app = builder.Build();
        var info = ModelInfo(model);
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("s2d.serve");
        var batching = o.Batching.For(model.Provider);
        var batcher = batching.MaxBatch > 1 ? new InferenceBatcher(model, batching) : null;
        var serving = new ServingContext(o, model, batcher);
        var metrics = new ServerMetrics(modelLoadSeconds, () => serving.QueuedImages);
        if (batcher is not null) batcher.BatchRun += metrics.Batch;
        else serving.RunAlone += metrics.Batch; // each request's own run: a batch of its images
        var access = TextWriter.Synchronized(log);

        // Memory a burst of requests left behind goes back to the system once the server is idle: a blocking, compacting
        // collection that decommits what it frees, then the C heap's free pages.
        var idle = new IdleCollector(TimeSpan.FromSeconds(2));
        app.Lifetime.ApplicationStopping.Register(idle.Dispose);
        // After the requests in flight are answered: finish what the batcher holds, and let any request still running the
        // model alone end before the caller disposes the model.
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            batcher?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (!serving.WaitIdle(TimeSpan.FromSeconds(30))) logger.LogWarning("requests still running the model 30 s after the server stopped");
        });

        // Every request: timed, counted by route and status, one JSON log line; any failure no handler turned into a
        // 4xx becomes a JSON 500 and a log line, never an empty body.
        app.Use(async (context, next) =>
        {
            idle.RequestStarted();
            long start = Stopwatch.GetTimestamp();
            try { await next(context); }
            catch (Exception e) when (e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested && !context.Response.HasStarted)
            {
                context.Response.StatusCode = ClientClosedRequest; // no one to answer: counted and logged, not an error
            }
            catch (Exception e) when (!context.Response.HasStarted)
            {
                logger.LogError("{Method} {Path}: 500 {Type}: {Message}", context.Request.Method, context.Request.Path, e.GetType().Name, Core.Torch.NativeErrors.Message(e));
                context.Response.Clear();
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
                await context.Response.WriteAsJsonAsync(new { error = $"internal error: {e.GetType().Name}: {Core.Torch.NativeErrors.Message(e)}", status = 500 }, Json);
            }
            finally
            {
                idle.RequestEnded(probe: IsProbe(context.Request));
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
                metrics.Request(route, context.Response.StatusCode, seconds);
                if (o.AccessLog)
                    access.WriteLine(JsonSerializer.Serialize(new
                    {
                        time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
                        method = context.Request.Method, path = context.Request.Path.Value, route, status = context.Response.StatusCode,
                        ms = Math.Round(seconds * 1000, 2), bytes_in = context.Request.ContentLength,
                    }, Json));
            }
        });

        app.MapGet("/healthz", () => Results.Json(new { status = "ok", model = Path.GetFileName(model.Path), execution_provider = model.Provider.Name() }, Json));
        app.MapGet("/v1/model", () => Results.Json(info, Json));
        app.MapGet("/", () => Results.Content(UploadPage.Html(info), "text/html; charset=utf-8"));
        app.MapGet("/metrics", () => Results.Text(metrics.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        app.MapGet("/openapi.json", () => Results.Content(OpenApiDocument.Json(o.ModelName, model), "application/json"));
        app.MapPost("/v1/classify", (HttpRequest request) => Classify(request, serving));
        OpenInference.Map(app, serving);
        List<RouteMethods>? routeMethods = null; // parsed at the first unrouted request: the routes are fixed by then
        // Every path, those with a dot in their last segment too (/favicon.ico): the default fallback leaves those to an empty 404.
        app.MapFallback("{*path}", (HttpContext c, EndpointDataSource routes) => NoRoute(c, routeMethods ??= Routes(routes)));
        log.WriteLine($"serving {model.Path} as '{o.ModelName}' ({model.Classes.Count} classes, {model.Provider.Name()}, " +
                      $"{(batcher is null ? "no batching" : $"batches of up to {batching.MaxBatch} within {batching.MaxDelay.TotalMilliseconds} ms")}) on {o.Urls}: " +
                      "POST /v1/classify, /v2/models/{name}/infer; GET /v1/model, /v2/models/{name}, /healthz, /v2/health/ready, /metrics, /openapi.json, /");
        return app;
    }

    /// <summary>The status logged for a request whose client closed the connection before the answer (nginx's 499).</summary>
    public const int ClientClosedRequest = 499;

    /// <summary>Health, readiness and metrics requests: polled by orchestrators, they do not count as work for the idle collector.</summary>
    private static bool IsProbe(HttpRequest r) => HttpMethods.IsGet(r.Method) &&
        (r.Path.StartsWithSegments("/healthz") || r.Path.StartsWithSegments("/metrics") || r.Path.StartsWithSegments("/v2/health") ||
         r.Path.StartsWithSegments("/v2/models") && r.Path.Value!.EndsWith("/ready", StringComparison.Ordinal));

    private static async Task<IResult> Classify(HttpRequest request, ServingContext s)
    {
        using var arrival = s.Arrive();
        try
        {
            string type = (request.ContentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
            bool multipart = type == "multipart/form-data";
            if (!multipart && !ImageTypes.Contains(type))
                throw new ServingException(415, $"Content-Type '{request.ContentType}' is not accepted; send the image bytes as image/jpeg, image/png or application/octet-stream, or upload it as multipart/form-data");
            int k = s.Options.DefaultTopK;
            int classes = s.Model.Classes.Count;
            if (request.Query.TryGetValue("top", out var topText) && (!int.TryParse(topText, out k) || k < 1 || k > classes))
                throw new ServingException(400, $"top={topText}: expected a whole number from 1 to {classes} (the model's classes)");
            byte[] body = multipart ? await Upload(request) : await ReadBody(request, s.Options.MaxBodyBytes);
            var watch = Stopwatch.StartNew();
            var image = await s.DecodeAsync(body, "request body");
            var logits = await s.LogitsAsync(s.Preprocess(image), 1, arrival, request.HttpContext.RequestAborted);
            if (!DeployedModel.AllFinite(logits)) // the server preprocessed the image itself: the model is at fault (500, logged)
                throw new InvalidOperationException("the model's outputs for this image are not finite numbers (NaN or infinity)");
            var top = DeployedModel.TopK(logits, Math.Min(k, classes)); // the default may exceed a small model's classes
            return Results.Json(new
            {
                model = Path.GetFileName(s.Model.Path),
                width = image.Width,
                height = image.Height,
                predictions = top.Select(p => new { label = s.Model.Classes[p.Index], index = p.Index, probability = p.Probability }),
                milliseconds = Math.Round(watch.Elapsed.TotalMilliseconds, 2),
            }, Json);
        }
        catch (Exception e) when (ServingException.IsRefusal(e))
        {
            var (status, message) = ServingException.Refusal(e, request, $"the image is over the limit of {s.Options.MaxBodyBytes:N0} bytes");
            return Error(status, message);
        }
    }

    /// <summary>The first file of a multipart/form-data upload (the upload page's form, curl -F).</summary>
    private static async Task<byte[]> Upload(HttpRequest request)
    {
        IFormCollection form;
        try { form = await request.ReadFormAsync(); }
        catch (Exception e) when (e is InvalidDataException or IOException and not BadHttpRequestException)
        {
            throw new ServingException(400, $"malformed multipart/form-data: {e.Message}");
        }
        var file = form.Files.FirstOrDefault() ?? throw new ServingException(400, "the multipart/form-data upload holds no file; send the image as a file field");
        using var stream = file.OpenReadStream();
        var bytes = new byte[file.Length];
        await stream.ReadExactlyAsync(bytes);
        return bytes;
    }

    /// <summary>
    /// The request body. A body announced over the limit is never buffered: the first read makes Kestrel refuse it (413).
    /// Memory is taken as the bytes arrive, not for the announced length at once: a slow sender announcing the limit
    /// holds only what it has sent.
    /// </summary>
    internal static async Task<byte[]> ReadBody(HttpRequest request, long limit)
    {
        if (request.ContentLength > limit)
        {
            await request.Body.ReadExactlyAsync(new byte[1]);
            throw new BadHttpRequestException("over the limit", StatusCodes.Status413PayloadTooLarge);
        }
        const int chunk = 64 * 1024;
        long announced = request.ContentLength ?? -1;
        if (announced is >= 0 and <= chunk)
        {
            var small = new byte[announced];
            await request.Body.ReadExactlyAsync(small);
            return small;
        }
        using var buffer = new MemoryStream(chunk);
        await request.Body.CopyToAsync(buffer, chunk);
        if (buffer.Length > limit) throw new BadHttpRequestException("over the limit", StatusCodes.Status413PayloadTooLarge);
        return buffer.Capacity == buffer.Length ? buffer.GetBuffer() : buffer.ToArray();
    }

    /// <summary>
    /// A request no endpoint took: 405 with Allow when its path is a route of other methods (GET on an infer route),
    /// else 404.
    /// </summary>
    private static IResult NoRoute(HttpContext c, List<RouteMethods> routes)
    {
        var path = c.Request.Path;
        var allowed = routes.Where(r => r.Matcher.TryMatch(path, new())).SelectMany(r => r.Methods).Distinct().Order().ToList();
        if (allowed.Count == 0)
            return Error(StatusCodes.Status404NotFound, $"no route {c.Request.Method} {path}; see GET / and GET /openapi.json for the API");
        c.Response.Headers.Allow = string.Join(", ", allowed);
        return Error(StatusCodes.Status405MethodNotAllowed, $"{c.Request.Method} {path}: this route takes {string.Join(" or ", allowed)}");
    }

    private sealed record RouteMethods(TemplateMatcher Matcher, IReadOnlyList<string> Methods);

    private static List<RouteMethods> Routes(EndpointDataSource routes) =>
        [.. routes.Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<HttpMethodMetadata>() is not null && e.RoutePattern.RawText is not null)
            .Select(e => new RouteMethods(new TemplateMatcher(TemplateParser.Parse(e.RoutePattern.RawText!.TrimStart('/')), new()),
                                          e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods))];

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
