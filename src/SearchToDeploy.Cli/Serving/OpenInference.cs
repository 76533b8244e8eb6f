using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using SearchToDeploy.Data;
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
        app.MapGet("/v2/models/{model}/versions/{version}/ready", (string model, string version) => Known(model, name, version) ?? Results.Json(new { name, ready = true }));
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
            if (request.Headers.ContainsKey(BinaryHeader))
                throw new ServingException(400, $"the binary tensor data extension ({BinaryHeader}) is not supported; send the tensor as JSON " +
                                                "(with tritonclient.http: InferInput.set_data_from_numpy(x, binary_data=False))");
            byte[] body = await ModelServer.ReadBody(request, s.Options.MaxBodyBytes);
            // A JsonDocument, not a tree of nodes: a few bytes per number of a large FP32 tensor, read in place.
            JsonDocument doc;
            try { doc = JsonDocument.Parse(body); }
            catch (JsonException e) { throw new ServingException(400, $"malformed JSON: {e.Message}"); }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) throw new ServingException(400, "expected a JSON object with \"inputs\"");
                var inputs = Member(root, "inputs", JsonValueKind.Array, "a list with one tensor") ?? throw new ServingException(400, "expected \"inputs\": a list with one tensor");
                if (inputs.GetArrayLength() != 1 || inputs[0].ValueKind != JsonValueKind.Object) throw new ServingException(400, $"expected one input tensor, got {inputs.GetArrayLength()}");
                var wanted = Outputs(root, s.Model.Classes.Count);
                var (images, n, encoded) = await Images(inputs[0], s);
                var logits = await s.LogitsAsync(images, n, arrival, request.HttpContext.RequestAborted);
                if (!DeployedModel.AllFinite(logits))
                {
                    // Encoded images the server preprocessed itself: the model is at fault (500, logged), as on /v1/classify.
                    if (encoded)
                        throw new InvalidOperationException("the model's outputs for these images are not finite numbers (NaN or infinity)");
                    throw new ServingException(400, "the model's outputs are not finite numbers for this input; FP32 inputs are preprocessed images (normalised values of a few units)");
                }
                int classes = s.Model.Classes.Count;
                var outputs = new JsonArray();
                foreach (var (outName, k) in wanted)
                {
                    float[] values = outName == "logits" ? logits : Softmax(logits, n, classes);
                    outputs.Add(k is { } top ? Classified(outName, values, n, classes, top, s.Model.Classes)
                        : new JsonObject { ["name"] = outName, ["datatype"] = "FP32", ["shape"] = new JsonArray(n, classes), ["data"] = new JsonArray([.. values.Select(v => (JsonNode)v)]) });
                }
                var response = new JsonObject { ["model_name"] = s.Options.ModelName, ["model_version"] = "1", ["outputs"] = outputs };
                if (root.TryGetProperty("id", out var id) && id.ValueKind is JsonValueKind.String or JsonValueKind.Number) response["id"] = JsonNode.Parse(id.GetRawText());
                return Results.Content(response.ToJsonString(), "application/json");
            }
        }
        catch (Exception e) when (ServingException.IsRefusal(e))
        {
            var (status, message) = ServingException.Refusal(e, request, $"the request body is over the limit of {s.Options.MaxBodyBytes:N0} bytes");
            return Error(status, message);
        }
    }

    /// <summary>The header of a request in the binary tensor data extension: the length of its JSON part.</summary>
    private const string BinaryHeader = "Inference-Header-Content-Length";

    /// <summary>A member of an object, null when absent; 400 when it has another JSON type than <paramref name="kind"/>.</summary>
    private static JsonElement? Member(JsonElement obj, string name, JsonValueKind kind, string expected) =>
        !obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == kind ? v : throw new ServingException(400, $"\"{name}\": expected {expected}, got {v.ValueKind.ToString().ToLowerInvariant()}");

    private static string? Text(JsonElement obj, string name, string expected) => Member(obj, name, JsonValueKind.String, expected)?.GetString();

    /// <summary>The requested outputs (name, classification k or null), checked before any inference; logits without a list.</summary>
    private static List<(string Name, int? K)> Outputs(JsonElement root, int classes)
    {
        if (Member(root, "outputs", JsonValueKind.Array, "a list of {\"name\": \"logits\" or \"probabilities\"}") is not { } list) return [("logits", null)];
        var wanted = new List<(string, int?)>();
        foreach (var o in list.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Object) throw new ServingException(400, $"each requested output is an object with a \"name\", not {o.ValueKind.ToString().ToLowerInvariant()}");
            string name = Text(o, "name", "\"logits\" or \"probabilities\"") ?? throw new ServingException(400, "each requested output needs a \"name\"");
            if (name is not ("logits" or "probabilities")) throw new ServingException(400, $"output '{name}': expected \"logits\" or \"probabilities\"");
            int? k = Member(o, "parameters", JsonValueKind.Object, "an object") is { } p && p.TryGetProperty("classification", out var c) ? Classification(c, classes) : null;
            wanted.Add((name, k));
        }
        return wanted.Count > 0 ? wanted : throw new ServingException(400, "\"outputs\": an empty list; leave it out for the logits");
    }

    /// <summary>
    /// The input tensor as preprocessed images: FP32 as given (shape checked), BYTES decoded and preprocessed
    /// (<c>Encoded</c>: the server preprocessed them itself).
    /// </summary>
    internal static async Task<(float[] Images, int N, bool Encoded)> Images(JsonElement input, ServingContext s)
    {
        string datatype = Text(input, "datatype", "FP32 or BYTES") ?? throw new ServingException(400, "the input needs a \"datatype\" (FP32 or BYTES)");
        string? name = Text(input, "name", "\"input\" (FP32) or \"image\" (BYTES)");
        if (name is not (null or "input" or "image")) throw new ServingException(400, $"input '{name}': this model takes \"input\" (FP32, preprocessed images) or \"image\" (BYTES, encoded images)");
        var shapeElement = Member(input, "shape", JsonValueKind.Array, "a list of whole numbers") ?? throw new ServingException(400, "the input needs a \"shape\"");
        long[] shape = [.. shapeElement.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out long x) ? x : -1)];
        var data = Member(input, "data", JsonValueKind.Array, "a list") is { } d ? d : throw new ServingException(400, "the input needs \"data\"");
        int size = s.Model.InputSize, max = s.Options.MaxImagesPerRequest;
        string shapeText = $"[{string.Join(", ", shape)}]";
        switch (datatype)
        {
            case "FP32":
            {
                if (shape.Length != 4 || shape[1] != 3 || shape[2] != size || shape[3] != size || shape[0] < 1)
                    throw new ServingException(400, $"FP32 input shape {shapeText}: expected [N, 3, {size}, {size}] (preprocessed images)");
                if (shape[0] > max) throw new ServingException(413, $"{shape[0]} images in one request; at most {max}");
                int n = (int)shape[0];
                // Counted before the tensor is allocated: a short request claiming a large shape costs nothing.
                long count = Flatten(data).LongCount(), expected = (long)n * s.Model.ImageFloats;
                if (count != expected)
                    throw new ServingException(400, count > expected ? $"more data than the shape {shapeText} holds ({count} values for {expected})" : $"{count} values for the shape {shapeText}, which holds {expected}");
                var values = new float[expected];
                int at = 0;
                foreach (var x in Flatten(data))
                {
                    if (x.ValueKind != JsonValueKind.Number || !x.TryGetSingle(out float f) || !float.IsFinite(f))
                        throw new ServingException(400, $"FP32 data element {at}: expected a finite number");
                    values[at++] = f;
                }
                return (values, n, false);
            }
            case "BYTES":
            {
                var items = Flatten(data).ToList();
                if (shape.Length is not (1 or 2) || shape[0] < 1 || shape.Length == 2 && shape[1] != 1 || shape[0] != items.Count)
                    throw new ServingException(400, $"BYTES input shape {shapeText} with {items.Count} elements: expected [N] and N encoded images");
                if (items.Count > max) throw new ServingException(413, $"{items.Count} images in one request; at most {max}");
                // Each image decoded and made into the model's floats before the next: the request holds one image's pixels
                // at a time, and a bad element costs no tensor of the claimed size.
                var inputs = new float[items.Count][];
                for (int i = 0; i < items.Count; i++)
                {
                    if (items[i].ValueKind != JsonValueKind.String) throw new ServingException(400, $"BYTES element {i}: expected a base64 string of a JPEG or PNG");
                    byte[] bytes;
                    try { bytes = Convert.FromBase64String(items[i].GetString()!); }
                    catch (FormatException) { throw new ServingException(400, $"BYTES element {i}: not base64 text"); }
                    inputs[i] = await s.DecodeInputAsync(bytes, $"image {i}");
                }
                if (inputs.Length == 1) return (inputs[0], 1, true);
                var values = new float[inputs.Length * s.Model.ImageFloats];
                for (int i = 0; i < inputs.Length; i++) inputs[i].CopyTo(values, i * s.Model.ImageFloats);
                return (values, inputs.Length, true);
            }
            default:
                throw new ServingException(400, $"datatype '{datatype}': expected FP32 (preprocessed images) or BYTES (encoded images)");
        }
    }

    /// <summary>A tensor's data, flat or nested row-major as the protocol allows.</summary>
    private static IEnumerable<JsonElement> Flatten(JsonElement a)
    {
        foreach (var x in a.EnumerateArray())
            if (x.ValueKind == JsonValueKind.Array) foreach (var y in Flatten(x)) yield return y;
            else yield return x;
    }

    private static int Classification(JsonElement c, int classes) =>
        c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out int k) && k >= 1 && k <= classes ? k
        : throw new ServingException(400, $"classification {c.GetRawText()}: expected a whole number from 1 to {classes}");

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
