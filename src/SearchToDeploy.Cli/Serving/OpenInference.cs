using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SearchToDeploy.Deploy.Inference;

namespace SearchToDeploy.Cli.Serving;

/// <summary>
/// The Open Inference Protocol's REST endpoints (KServe V2, as Triton serves them): server and model health, model
/// metadata, and inference. <c>POST /v2/models/{name}/infer</c> takes one input: FP32 images already preprocessed,
/// shape [N, 3, H, W], or BYTES, shape [N], each element an encoded JPEG/PNG as base64 text; it returns the output
/// "logits" (FP32 [N, classes]) or "probabilities" (softmax), and with the classification parameter
/// (<c>"parameters": {"classification": k}</c>) the top k as BYTES "score:index:label", as Triton does. Errors are
/// <c>{"error": "..."}</c> with a 4xx status.
/// </summary>
public static class OpenInference
{
    public static void Map(WebApplication app, ServingContext serving)
    {
        var model = serving.Model;
        string name = serving.Options.ModelName;
        app.MapGet("/v2", () => Results.Json(new { name = "s2d", version = typeof(OpenInference).Assembly.GetName().Version?.ToString(), extensions = new[] { "classification" } }));
        app.MapGet("/v2/health/live", () => Results.Json(new { live = true }));
        app.MapGet("/v2/health/ready", () => Results.Json(new { ready = true }));
        app.MapGet("/v2/models/{model}", (string model) => Known(model, name) ?? Results.Json(Metadata(serving)));
        app.MapGet("/v2/models/{model}/versions/{version}", (string model, string version) => Known(model, name, version) ?? Results.Json(Metadata(serving)));
        app.MapGet("/v2/models/{model}/ready", (string model) => Known(model, name) ?? Results.Json(new { name, ready = true }));
        app.MapPost("/v2/models/{model}/infer", (string model, HttpRequest request) => Infer(model, null, request, serving));
        app.MapPost("/v2/models/{model}/versions/{version}/infer", (string model, string version, HttpRequest request) => Infer(model, version, request, serving));
    }

    /// <summary>Null when the request names the served model (and version 1), else a 404.</summary>
    private static IResult? Known(string requested, string served, string? version = null) =>
        requested != served ? Error(404, $"model '{requested}' is not served here; this server serves '{served}'")
        : version is not null && version != "1" ? Error(404, $"model '{served}' has version 1 only, not '{version}'")
        : null;

    private static object Metadata(ServingContext s) => new
    {
        name = s.Options.ModelName,
        versions = new[] { "1" },
        platform = "onnxruntime_onnx",
        inputs = new[] { new { name = "input", datatype = "FP32", shape = new long[] { -1, 3, s.Model.InputSize, s.Model.InputSize } },
                         new { name = "image", datatype = "BYTES", shape = new long[] { -1 } } },
        outputs = new[] { new { name = "logits", datatype = "FP32", shape = new long[] { -1, s.Model.Classes.Count } },
                          new { name = "probabilities", datatype = "FP32", shape = new long[] { -1, s.Model.Classes.Count } } },
        parameters = new { classes = s.Model.Classes, preprocessing = new { input_size = s.Model.InputSize, resize_shorter = s.Model.ResizeShorter, mean = s.Model.Info.Preprocessing.Mean, std = s.Model.Info.Preprocessing.Std } },
    };

    private static async Task<IResult> Infer(string requested, string? version, HttpRequest request, ServingContext s)
    {
        if (Known(requested, s.Options.ModelName, version) is { } notFound) return notFound;
        using var arrival = s.Arrive();
        try
        {
            byte[] body = await ModelServer.ReadBody(request, s.Options.MaxBodyBytes);
            JsonObject root;
            try { root = JsonNode.Parse(body) as JsonObject ?? throw new ServingException(400, "expected a JSON object with \"inputs\""); }
            catch (JsonException e) { throw new ServingException(400, $"malformed JSON: {e.Message}"); }
            var inputs = root["inputs"] as JsonArray ?? throw new ServingException(400, "expected \"inputs\": a list with one tensor");
            if (inputs.Count != 1 || inputs[0] is not JsonObject input) throw new ServingException(400, $"expected one input tensor, got {inputs.Count}");
            var (images, n) = await Images(input, s);
            var logits = await s.LogitsAsync(images, n, arrival);
            int classes = s.Model.Classes.Count;
            var outputs = new JsonArray();
            var requestedOutputs = root["outputs"] as JsonArray ?? [new JsonObject { ["name"] = "logits" }];
            foreach (var o in requestedOutputs)
            {
                string outName = o?["name"]?.GetValue<string>() ?? throw new ServingException(400, "each requested output needs a \"name\"");
                if (outName is not ("logits" or "probabilities")) throw new ServingException(400, $"output '{outName}': expected \"logits\" or \"probabilities\"");
                float[] values = outName == "logits" ? logits : Softmax(logits, n, classes);
                int? k = o["parameters"]?["classification"] is { } c ? Classification(c, classes) : null;
                outputs.Add(k is { } top ? Classified(outName, values, n, classes, top, s.Model.Classes)
                    : new JsonObject { ["name"] = outName, ["datatype"] = "FP32", ["shape"] = new JsonArray(n, classes), ["data"] = new JsonArray([.. values.Select(v => (JsonNode)v)]) });
            }
            var response = new JsonObject { ["model_name"] = s.Options.ModelName, ["model_version"] = "1", ["outputs"] = outputs };
            if (root["id"] is JsonValue id) response["id"] = id.DeepClone();
            return Results.Content(response.ToJsonString(), "application/json");
        }
        catch (ServingException e)
        {
            if (e.Status == 503) request.HttpContext.Response.Headers.RetryAfter = "1";
            return Error(e.Status, e.Message);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return Error(413, $"the request body is over the limit of {s.Options.MaxBodyBytes:N0} bytes");
        }
    }

    /// <summary>The input tensor as preprocessed images: FP32 as given (shape checked), BYTES decoded and preprocessed.</summary>
    private static async Task<(float[] Images, int N)> Images(JsonObject input, ServingContext s)
    {
        string datatype = input["datatype"]?.GetValue<string>() ?? throw new ServingException(400, "the input needs a \"datatype\" (FP32 or BYTES)");
        var shape = (input["shape"] as JsonArray ?? throw new ServingException(400, "the input needs a \"shape\"")).Select(d => d is JsonValue v && v.TryGetValue(out long x) ? x : -1).ToArray();
        var data = input["data"] as JsonArray ?? throw new ServingException(400, "the input needs \"data\"");
        int size = s.Model.InputSize, max = s.Options.MaxImagesPerRequest;
        switch (datatype)
        {
            case "FP32":
            {
                if (shape.Length != 4 || shape[1] != 3 || shape[2] != size || shape[3] != size || shape[0] < 1)
                    throw new ServingException(400, $"FP32 input shape [{string.Join(", ", shape)}]: expected [N, 3, {size}, {size}] (preprocessed images)");
                if (shape[0] > max) throw new ServingException(413, $"{shape[0]} images in one request; at most {max}");
                int n = (int)shape[0];
                var values = new float[n * s.Model.ImageFloats];
                int at = 0;
                foreach (var x in Flatten(data))
                {
                    if (at == values.Length) throw new ServingException(400, $"more data than the shape [{string.Join(", ", shape)}] holds");
                    values[at++] = x is JsonValue v && v.TryGetValue(out float f) && float.IsFinite(f) ? f : throw new ServingException(400, $"FP32 data element {at}: expected a finite number");
                }
                if (at != values.Length) throw new ServingException(400, $"{at} values for the shape [{string.Join(", ", shape)}], which holds {values.Length}");
                return (values, n);
            }
            case "BYTES":
            {
                if (shape.Length is not (1 or 2) || shape[0] < 1 || shape.Length == 2 && shape[1] != 1 || shape[0] != data.Count)
                    throw new ServingException(400, $"BYTES input shape [{string.Join(", ", shape)}] with {data.Count} elements: expected [N] and N encoded images");
                if (data.Count > max) throw new ServingException(413, $"{data.Count} images in one request; at most {max}");
                var values = new float[data.Count * s.Model.ImageFloats];
                for (int i = 0; i < data.Count; i++)
                {
                    string text = data[i] is JsonValue v && v.TryGetValue(out string? t) ? t : throw new ServingException(400, $"BYTES element {i}: expected a base64 string of a JPEG or PNG");
                    byte[] bytes;
                    try { bytes = Convert.FromBase64String(text); }
                    catch (FormatException) { throw new ServingException(400, $"BYTES element {i}: not base64 text"); }
                    var image = await s.DecodeAsync(bytes, $"image {i}");
                    s.Preprocess(image).CopyTo(values, i * s.Model.ImageFloats);
                }
                return (values, data.Count);
            }
            default:
                throw new ServingException(400, $"datatype '{datatype}': expected FP32 (preprocessed images) or BYTES (encoded images)");
        }
    }

    private static IEnumerable<JsonNode?> Flatten(JsonArray a)
    {
        foreach (var x in a)
            if (x is JsonArray inner) foreach (var y in Flatten(inner)) yield return y;
            else yield return x;
    }

    private static int Classification(JsonNode c, int classes) =>
        c is JsonValue v && v.TryGetValue(out int k) && k >= 1 && k <= classes ? k
        : throw new ServingException(400, $"classification {c.ToJsonString()}: expected a whole number from 1 to {classes}");

    private static JsonObject Classified(string name, float[] values, int n, int classes, int k, IReadOnlyList<string> labels)
    {
        var data = new JsonArray();
        for (int i = 0; i < n; i++)
            foreach (int c in Enumerable.Range(0, classes).OrderByDescending(c => values[i * classes + c]).ThenBy(c => c).Take(k))
                data.Add(string.Create(CultureInfo.InvariantCulture, $"{values[i * classes + c]:0.######}:{c}:{labels[c]}"));
        return new JsonObject { ["name"] = name, ["datatype"] = "BYTES", ["shape"] = new JsonArray(n, k), ["data"] = data };
    }

    private static float[] Softmax(float[] logits, int n, int classes)
    {
        var p = new float[logits.Length];
        for (int i = 0; i < n; i++)
        {
            var top = DeployedModel.TopK(logits.AsSpan(i * classes, classes), classes);
            foreach (var (index, probability) in top) p[i * classes + index] = probability;
        }
        return p;
    }

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);
}
