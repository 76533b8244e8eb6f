using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SearchToDeploy.Cli.Serving;
using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Inference;
using SkiaSharp;

namespace SearchToDeploy.Tests.Deploy;

/// <summary>The Open Inference Protocol routes, multipart uploads, EXIF orientation, dynamic batching, /metrics and OpenAPI.</summary>
public sealed class ServingProtocolTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    private async Task With(ServerOptions options, Func<HttpClient, DeployedModel, Task> body)
    {
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        var app = ModelServer.Build(options, model, TextWriter.Null, 0.5);
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(options.Urls) };
            await body(http, model);
        }
        finally { await app.StopAsync(); }
    }

    private ServerOptions Options(int maxBatch = 32, double delayMs = 2, int queue = 512) =>
        new(fixture.ModelPath, $"http://127.0.0.1:{DeploymentTests.FreePort()}", MaxBodyBytes: 400_000)
        {
            Name = "tiny", Batching = new BatchSettings(maxBatch, TimeSpan.FromMilliseconds(delayMs), queue),
        };

    private static byte[] Png(int index) => DeploymentTests.EncodePng(TrainedModelFixture.Cifar.Open(Split.Test).Load(index));

    private static Task<HttpResponseMessage> PostJson(HttpClient http, string path, string json) =>
        http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    [Fact]
    public Task Open_inference_protocol_health_metadata_and_inference_agree_with_the_model() => With(Options(), async (http, model) =>
    {
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v2/health/live")).StatusCode);
        Assert.Contains("\"ready\":true", await http.GetStringAsync("/v2/health/ready"));
        Assert.Contains("\"ready\":true", await http.GetStringAsync("/v2/models/tiny/ready"));
        using (var meta = JsonDocument.Parse(await http.GetStringAsync("/v2/models/tiny")))
        {
            Assert.Equal("tiny", meta.RootElement.GetProperty("name").GetString());
            Assert.Equal("[-1,3,32,32]", meta.RootElement.GetProperty("inputs")[0].GetProperty("shape").GetRawText());
            Assert.Equal("[-1,10]", meta.RootElement.GetProperty("outputs")[0].GetProperty("shape").GetRawText());
        }
        var unknown = await http.GetAsync("/v2/models/other");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("\"error\"", await unknown.Content.ReadAsStringAsync());

        // FP32: two preprocessed images; the logits are the model's.
        var images = new[] { 3, 7 }.Select(i => ImageDecoder.Decode(Png(i), "t")).ToArray();
        var x = images.SelectMany(im => { var f = new float[model.ImageFloats]; model.Preprocess(im, f); return f; }).ToArray();
        var expected = model.Logits(x, 2);
        string request = new JsonObject
        {
            ["id"] = "r1",
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "input", ["datatype"] = "FP32", ["shape"] = new JsonArray(2, 3, 32, 32), ["data"] = new JsonArray([.. x.Select(v => (JsonNode)v)]) }),
        }.ToJsonString();
        var response = await PostJson(http, "/v2/models/tiny/infer", request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            Assert.Equal("r1", json.RootElement.GetProperty("id").GetString());
            var output = json.RootElement.GetProperty("outputs")[0];
            Assert.Equal("[2,10]", output.GetProperty("shape").GetRawText());
            var got = output.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], got[i], 5);
        }

        // BYTES (base64 PNG) with classification: Triton's "score:index:label", the same top-1 as /v1/classify.
        string bytesRequest = $$$"""{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["{{{Convert.ToBase64String(Png(7))}}}"]}],"outputs":[{"name":"probabilities","parameters":{"classification":3}}]}""";
        using var classified = JsonDocument.Parse(await (await PostJson(http, "/v2/models/tiny/infer", bytesRequest)).Content.ReadAsStringAsync());
        var top = classified.RootElement.GetProperty("outputs")[0];
        Assert.Equal("BYTES", top.GetProperty("datatype").GetString());
        Assert.Equal("[1,3]", top.GetProperty("shape").GetRawText());
        string[] first = top.GetProperty("data")[0].GetString()!.Split(':');
        var v1 = await (await http.PostAsync("/v1/classify", new ByteArrayContent(Png(7)) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } })).Content.ReadAsStringAsync();
        using var v1Json = JsonDocument.Parse(v1);
        Assert.Equal(v1Json.RootElement.GetProperty("predictions")[0].GetProperty("label").GetString(), first[2]);
        Assert.Equal(v1Json.RootElement.GetProperty("predictions")[0].GetProperty("probability").GetSingle(), float.Parse(first[0], System.Globalization.CultureInfo.InvariantCulture), 4);
    });

    [Theory]
    [InlineData("tiny", "{\"inputs\": [", 400, "malformed JSON")]
    [InlineData("tiny", "{\"inputs\": []}", 400, "expected one input tensor")]
    [InlineData("tiny", "{\"inputs\": [{\"name\":\"input\",\"datatype\":\"INT64\",\"shape\":[1],\"data\":[1]}]}", 400, "datatype 'INT64'")]
    [InlineData("tiny", "{\"inputs\": [{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,16,16],\"data\":[0]}]}", 400, "expected [N, 3, 32, 32]")]
    [InlineData("tiny", "{\"inputs\": [{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,32,32],\"data\":[0,1]}]}", 400, "2 values for the shape")]
    [InlineData("tiny", "{\"inputs\": [{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"aGVsbG8=\"]}]}", 400, "not a recognised image format")]
    [InlineData("tiny", "{\"inputs\": [{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"%%%\"]}]}", 400, "not base64")]
    [InlineData("tiny", "{\"inputs\": [{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"aGVsbG8=\"]}]}", 400, "expected [N] and N encoded images")]
    [InlineData("other", "{\"inputs\": []}", 404, "model 'other' is not served here")]
    [InlineData("tiny", "BOMB", 413, "20000x20000 pixels is over the limit")]
    [InlineData("tiny", "CLASSIFY0", 400, "classification 0: expected a whole number from 1 to 10")]
    [InlineData("tiny", "CLASSIFY11", 400, "classification 11")]
    [InlineData("tiny", "HUGE", 413, "over the limit of 400,000 bytes")]
    [InlineData("tiny", "{\"inputs\": [{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,32,32],\"data\":[\"x\"]}]}", 400, "1 values for the shape [1, 3, 32, 32], which holds 3072")]
    [InlineData("tiny", "STRING", 400, "FP32 data element 0: expected a finite number")]
    [InlineData("tiny", "{\"inputs\": [{\"name\":\"input\",\"datatype\":1,\"shape\":[1],\"data\":[1]}]}", 400, "\"datatype\": expected FP32 or BYTES, got number")]
    [InlineData("tiny", "{\"inputs\": [{\"name\":\"foo\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}", 400, "input 'foo': this model takes")]
    [InlineData("tiny", "{\"inputs\": {\"name\":\"input\"}}", 400, "\"inputs\": expected")]
    [InlineData("tiny", "OUTPUTS[\"logits\"]", 400, "each requested output is an object")]
    [InlineData("tiny", "OUTPUTS[{\"name\":5}]", 400, "\"name\": expected")]
    [InlineData("tiny", "OUTPUTS[{\"name\":\"logits\",\"parameters\":\"x\"}]", 400, "\"parameters\": expected an object, got string")]
    [InlineData("tiny", "OVERFLOW", 400, "not finite numbers for this input")]
    [InlineData("tiny", "QUEUE", 413, "this server queues at most 2 (--queue)")]
    public Task Bad_v2_requests_get_a_4xx_json_error_and_the_server_stays_healthy(string model, string body, int status, string message) => With(Options(maxBatch: 2, queue: 2), async (http, _) =>
    {
        string image = Convert.ToBase64String(Png(1));
        string Fp32(int n, string value) => $$"""{"inputs":[{"name":"input","datatype":"FP32","shape":[{{n}},3,32,32],"data":[{{string.Join(",", Enumerable.Repeat(value, n * 3 * 32 * 32))}}]}]}""";
        body = body switch
        {
            _ when body.StartsWith("OUTPUTS", StringComparison.Ordinal) => $$"""{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["{{image}}"]}],"outputs":{{body[7..]}}}""",
            "OVERFLOW" => Fp32(1, "3e38"),
            "QUEUE" => Fp32(3, "0"),
            "STRING" => Fp32(1, "0").Replace("\"data\":[0", "\"data\":[\"x\"", StringComparison.Ordinal),
            "BOMB" => $$"""{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["{{Convert.ToBase64String(DeploymentTests.PngHeader(20000, 20000))}}"]}]}""",
            "CLASSIFY0" or "CLASSIFY11" => $$$"""{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["{{{image}}}"]}],"outputs":[{"name":"logits","parameters":{"classification":{{{body[8..]}}}}}]}""",
            "HUGE" => $$"""{"inputs":[{"name":"image","datatype":"BYTES","shape":[1],"data":["{{new string('A', 500_000)}}"]}]}""",
            _ => body,
        };
        var response = await PostJson(http, $"/v2/models/{model}/infer", body);
        Assert.Equal(status, (int)response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(message, json.RootElement.GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/v2/health/ready")).StatusCode);
    });

    [Fact]
    public Task A_multipart_upload_and_an_exif_rotated_jpeg_are_classified_upright() => With(Options(), async (http, _) =>
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Png(7));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "file", "seven.png");
        var multipart = await http.PostAsync("/v1/classify?top=2", form);
        Assert.Equal(HttpStatusCode.OK, multipart.StatusCode);
        Assert.Equal(2, JsonDocument.Parse(await multipart.Content.ReadAsStringAsync()).RootElement.GetProperty("predictions").GetArrayLength());

        // A 40x24 JPEG stored sideways with EXIF orientation 6 (turn 90 degrees clockwise to view): served as 24x40.
        byte[] jpeg = WithExifOrientation(Jpeg(40, 24), 6);
        using var data = SKData.CreateCopy(jpeg);
        using (var codec = SKCodec.Create(data)) Assert.Equal(SKEncodedOrigin.RightTop, codec.EncodedOrigin);
        var upright = await http.PostAsync("/v1/classify", new ByteArrayContent(jpeg) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } });
        using var json = JsonDocument.Parse(await upright.Content.ReadAsStringAsync());
        Assert.Equal(24, json.RootElement.GetProperty("width").GetInt32());
        Assert.Equal(40, json.RootElement.GetProperty("height").GetInt32());
        // The pixels turned as a viewer shows them: the stored top-left (red) corner is at the top right.
        var stored = ImageDecoder.Decode(jpeg, "t", orient: false);
        var shown = ImageDecoder.Decode(jpeg, "t", orient: true);
        Assert.Equal((stored.Width, stored.Height), (shown.Height, shown.Width));
        Assert.True(shown[0, shown.Width - 1].R > 200 && shown[0, 0].R < 60, $"{shown[0, shown.Width - 1]} {shown[0, 0]}");
        // Datasets (training, validation) read the file as the server does, so the gate measures the served pixels.
        using var dir = new TempDir();
        Directory.CreateDirectory(dir["c"]);
        File.WriteAllBytes(dir["c/a.jpg"], jpeg);
        var fromFolder = ImageFolderDataset.Open(dir.Path).Load(0);
        Assert.Equal((shown.Width, shown.Height), (fromFolder.Width, fromFolder.Height));
        Assert.Equal(shown.Pixels.ToArray(), fromFolder.Pixels.ToArray());
    });

    [Fact]
    public Task Concurrent_requests_are_batched_and_metrics_and_openapi_describe_the_server() => With(Options(maxBatch: 16, delayMs: 250), async (http, _) =>
    {
        byte[] png = Png(5);
        var results = await Task.WhenAll(Enumerable.Range(0, 48).Select(_ =>
            http.PostAsync("/v1/classify", new ByteArrayContent(png) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } })));
        Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        string metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("s2d_requests_total{route=\"/v1/classify\",status=\"200\"} 48", metrics);
        Assert.Contains("s2d_model_load_seconds 0.5", metrics);
        Assert.Matches(@"(?m)^process_resident_memory_bytes [1-9][0-9]+$", metrics);
        Assert.Matches(@"(?m)^dotnet_gc_heap_size_bytes [0-9]+$", metrics);
        Assert.Matches(@"(?m)^dotnet_gc_committed_bytes [0-9]+$", metrics);
        long single = Value(metrics, "s2d_batch_images_bucket{le=\"1\"}"), runs = Value(metrics, "s2d_batch_images_count");
        Assert.True(runs < 48 && single < runs, $"{runs} runs for 48 requests, {single} of one image:\n{metrics}");
        Assert.Equal(48, Value(metrics, "s2d_batch_images_sum"));
        using var openapi = JsonDocument.Parse(await http.GetStringAsync("/openapi.json"));
        Assert.Equal("3.0.3", openapi.RootElement.GetProperty("openapi").GetString());
        Assert.True(openapi.RootElement.GetProperty("paths").TryGetProperty("/v2/models/{name}/infer", out var _));
        Assert.True(openapi.RootElement.GetProperty("paths").TryGetProperty("/v2/models/{name}/versions/{version}/infer", out var versioned));
        Assert.Contains("\"version\"", versioned.GetRawText());
    });

    [Fact]
    public void An_automatic_maximum_batch_batches_on_cuda_only_and_an_explicit_one_is_kept()
    {
        Assert.Equal(1, new BatchSettings().For(OnnxExecutionProvider.Cpu).MaxBatch);
        Assert.Equal(BatchSettings.GpuBatch, new BatchSettings().For(OnnxExecutionProvider.Cuda).MaxBatch);
        Assert.Equal(8, new BatchSettings(8).For(OnnxExecutionProvider.Cpu).MaxBatch);
        Assert.Contains("--max-batch -1", Assert.Throws<InputException>(() => new BatchSettings(-1).Validate()).Message);
        Assert.Equal(TimeSpan.Zero, new BatchSettings(8, TimeSpan.Zero).MaxDelay);
        Assert.Equal(TimeSpan.FromMilliseconds(2), new BatchSettings(8).MaxDelay);
        // An explicit queue under the automatic batch is kept; the batch fits it.
        var small = new BatchSettings(0, null, 8).For(OnnxExecutionProvider.Cuda);
        Assert.Equal((8, 8), (small.MaxBatch, small.QueueImages));
    }

    [Fact]
    public async Task The_batcher_runs_a_request_larger_than_the_maximum_batch_in_parts()
    {
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        var batcher = new InferenceBatcher(model, new BatchSettings(2, TimeSpan.Zero, 64));
        var runs = new List<int>();
        batcher.BatchRun += n => { lock (runs) runs.Add(n); };
        var rng = new Random(5);
        var x = Enumerable.Range(0, 5 * model.ImageFloats).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var logits = await batcher.InferAsync(x, 5);
        await batcher.DisposeAsync();
        Assert.Equal([2, 2, 1], runs);
        var expected = model.Logits(x, 5);
        Assert.Equal(expected.Length, logits.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], logits[i], 4);
        Assert.Equal(0, batcher.QueuedImages);
    }

    [Fact]
    public async Task A_batch_waiting_for_an_announced_request_runs_as_soon_as_that_request_gives_up()
    {
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        // The longest delay there is (10 s): the batch must run when the announced request gives up, well before it ends.
        var batcher = new InferenceBatcher(model, new BatchSettings(8, TimeSpan.FromSeconds(10), 64));
        var coming = batcher.Arrive();
        var queued = batcher.InferAsync(new float[model.ImageFloats], 1);
        await Task.Delay(100);
        Assert.False(queued.IsCompleted);
        coming.Dispose(); // refused, say, while it was being read: nothing more is on its way
        await queued.WaitAsync(TimeSpan.FromSeconds(8));
        await batcher.DisposeAsync();
    }

    [Fact]
    public async Task A_request_cancelled_while_it_waits_in_the_queue_is_not_run()
    {
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        var batcher = new InferenceBatcher(model, new BatchSettings(4, TimeSpan.Zero, 64));
        var runs = new List<int>();
        using var running = new SemaphoreSlim(0);
        using var release = new ManualResetEventSlim();
        batcher.BatchRun += n =>
        {
            lock (runs) runs.Add(n);
            running.Release();
            release.Wait(TimeSpan.FromSeconds(10)); // holds the batcher's loop inside its first run
        };
        var x = new float[model.ImageFloats];
        var first = batcher.InferAsync(x, 1);
        Assert.True(await running.WaitAsync(TimeSpan.FromSeconds(10)));
        using var client = new CancellationTokenSource();
        var gone = batcher.InferAsync(x, 1, client.Token);
        var kept = batcher.InferAsync(x, 1);
        client.Cancel(); // its client went away while it was queued
        release.Set();
        await Task.WhenAll(first, kept);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gone);
        // A request whose client is gone before it is queued is dropped too.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batcher.InferAsync(x, 1, client.Token));
        await batcher.DisposeAsync();
        Assert.Equal([1, 1], runs); // the kept request ran alone, not in a batch of two with the cancelled one
        Assert.Equal(0, batcher.QueuedImages);
    }

    [Fact]
    public async Task A_short_v2_request_claiming_a_large_tensor_is_refused_before_the_tensor_is_allocated()
    {
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        var serving = new ServingContext(Options(), model, null);
        long tensor = 64L * model.ImageFloats * sizeof(float);
        foreach (string input in new[]
        {
            """{"name":"input","datatype":"FP32","shape":[64,3,32,32],"data":[]}""",
            $$"""{"name":"image","datatype":"BYTES","shape":[64],"data":[{{string.Join(",", Enumerable.Repeat("\"\"", 64))}}]}""",
        })
        {
            using var doc = JsonDocument.Parse(input);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var refused = await Assert.ThrowsAsync<ServingException>(() => OpenInference.Images(doc.RootElement, serving));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(400, refused.Status);
            Assert.True(allocated < tensor / 4, $"{allocated:N0} bytes allocated to refuse a {input.Length}-byte input (the claimed tensor: {tensor:N0})");
        }
    }

    [Fact]
    public Task Versioned_readiness_nested_bytes_and_a_truncated_upload_are_answered() => With(Options(), async (http, _) =>
    {
        Assert.Contains("\"ready\":true", await http.GetStringAsync("/v2/models/tiny/versions/1/ready"));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v2/models/tiny/versions/2/ready")).StatusCode);
        // A route asked with another method: 405 and what it takes; a path that is no route: 404.
        var wrongMethod = await http.GetAsync("/v2/models/tiny/infer");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal(["POST"], wrongMethod.Content.Headers.Allow);
        Assert.Contains("this route takes POST", await wrongMethod.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("/healthz", new StringContent(""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v3/nothing")).StatusCode);
        // Paths with a dot in their last segment get the same JSON answers (a browser asks for /favicon.ico).
        var favicon = await http.GetAsync("/favicon.ico");
        Assert.Equal(HttpStatusCode.NotFound, favicon.StatusCode);
        Assert.Contains("\"error\"", await favicon.Content.ReadAsStringAsync());
        var postSpec = await http.PostAsync("/openapi.json", new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, postSpec.StatusCode);
        Assert.Contains("this route takes GET", await postSpec.Content.ReadAsStringAsync());
        // top beyond the model's classes is refused, as v2's classification is.
        var tooMany = await http.PostAsync("/v1/classify?top=11", new ByteArrayContent(Png(3)) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("top=11: expected a whole number from 1 to 10", await tooMany.Content.ReadAsStringAsync());
        // BYTES of shape [N, 1] nested row-major, as clients write a two-dimensional tensor.
        string nested = $$"""{"inputs":[{"name":"image","datatype":"BYTES","shape":[2,1],"data":[["{{Convert.ToBase64String(Png(3))}}"],["{{Convert.ToBase64String(Png(4))}}"]]}]}""";
        var ok = await PostJson(http, "/v2/models/tiny/infer", nested);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("\"shape\":[2,10]", await ok.Content.ReadAsStringAsync());
        // A multipart body cut off before its closing boundary.
        var cut = new ByteArrayContent("--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\r\n\r\nabc"u8.ToArray());
        cut.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        var truncated = await http.PostAsync("/v1/classify", cut);
        Assert.Equal(HttpStatusCode.BadRequest, truncated.StatusCode);
        Assert.Contains("malformed multipart/form-data", await truncated.Content.ReadAsStringAsync());
        // The binary tensor data extension (tritonclient's default) is named, not reported as malformed JSON.
        var binary = new ByteArrayContent([.. "{\"inputs\":[]}"u8.ToArray(), 1, 2, 3, 4]);
        binary.Headers.Add("Inference-Header-Content-Length", "13");
        var refused = await http.PostAsync("/v2/models/tiny/infer", binary);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("binary tensor data extension", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
    });

    [Fact]
    public async Task The_batcher_runs_a_lone_request_at_once_and_waits_only_for_announced_ones()
    {
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        // The longest delay there is (10 s): a lone request must run at once, well before it ends.
        var batcher = new InferenceBatcher(model, new BatchSettings(8, TimeSpan.FromSeconds(10), 64));
        var runs = new List<int>();
        batcher.BatchRun += n => { lock (runs) runs.Add(n); };
        var x = new float[model.ImageFloats];
        await batcher.InferAsync(x, 1).WaitAsync(TimeSpan.FromSeconds(8));

        // One request queued while another is announced: they run together once the second arrives (queued, then its
        // announcement ended, as the server does).
        var coming = batcher.Arrive();
        var first = batcher.InferAsync(x, 1);
        await Task.Delay(200);
        Assert.False(first.IsCompleted);
        var second = batcher.InferAsync(new float[2 * model.ImageFloats], 2);
        coming.Dispose();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(8));
        Assert.Equal(10 * 2, (await second).Length);
        await batcher.DisposeAsync();
        Assert.Equal([1, 3], runs);
    }

    [Fact]
    public Task Without_batching_each_requests_own_run_is_counted_as_a_batch() => With(Options(maxBatch: 1), async (http, _) =>
    {
        string two = $$"""{"inputs":[{"name":"image","datatype":"BYTES","shape":[2],"data":["{{Convert.ToBase64String(Png(3))}}","{{Convert.ToBase64String(Png(4))}}"]}]}""";
        Assert.Equal(HttpStatusCode.OK, (await PostJson(http, "/v2/models/tiny/infer", two)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/v1/classify", new ByteArrayContent(Png(5)) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } })).StatusCode);
        string metrics = await http.GetStringAsync("/metrics");
        Assert.Equal(2, Value(metrics, "s2d_batch_images_count"));
        Assert.Equal(3, Value(metrics, "s2d_batch_images_sum"));
    });

    [Fact]
    public Task A_full_queue_answers_503_with_retry_after_and_recovers() => With(Options(maxBatch: 2, delayMs: 300, queue: 2), async (http, _) =>
    {
        byte[] png = Png(2);
        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ =>
            http.PostAsync("/v1/classify", new ByteArrayContent(png) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } })));
        var busy = results.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.NotEmpty(busy);
        Assert.All(busy, r => Assert.Equal("1", r.Headers.RetryAfter?.ToString()));
        Assert.All(results, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, r.StatusCode.ToString()));
        var again = await http.PostAsync("/v1/classify", new ByteArrayContent(png) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    });

    [Fact]
    public async Task Stopping_finishes_the_requests_in_flight()
    {
        var options = Options(maxBatch: 8, delayMs: 400);
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        var app = ModelServer.Build(options, model, TextWriter.Null);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(options.Urls) };
        byte[] png = Png(4);
        var inFlight = Enumerable.Range(0, 6).Select(_ =>
            http.PostAsync("/v1/classify", new ByteArrayContent(png) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } })).ToList();
        // Stop once all six are in the server (waiting in the batcher's 400 ms window), not after a guessed delay: a
        // request not yet connected when stopping begins would be refused, which is not what this test is about.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Value(await http.GetStringAsync("/metrics"), "s2d_queue_images") < 6 && !inFlight.All(t => t.IsCompleted) && waited.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(5);
        await app.StopAsync(); // what SIGTERM starts
        foreach (var r in await Task.WhenAll(inFlight)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
    }

    private static long Value(string metrics, string name) =>
        (long)double.Parse(metrics.Split('\n').First(l => l.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A JPEG, red on the left quarter, blue elsewhere.</summary>
    private static byte[] Jpeg(int width, int height)
    {
        using var bmp = new SKBitmap(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bmp.SetPixel(x, y, x < width / 4 && y < height / 2 ? new SKColor(255, 0, 0) : new SKColor(0, 0, 255));
        using var data = bmp.Encode(SKEncodedImageFormat.Jpeg, 95);
        return data.ToArray();
    }

    /// <summary>The JPEG with an EXIF APP1 segment (big-endian TIFF, one IFD entry: Orientation) after its SOI marker.</summary>
    private static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] tiff = [(byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, (byte)(orientation >> 8), (byte)orientation, 0, 0, 0, 0, 0, 0];
        byte[] payload = [.. "Exif\0\0"u8.ToArray(), .. tiff];
        int length = payload.Length + 2;
        return [0xFF, 0xD8, 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload, .. jpeg[2..]];
    }
}
