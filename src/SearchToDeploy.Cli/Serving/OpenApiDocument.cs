using System.Text.Json.Nodes;
using SearchToDeploy.Deploy.Inference;

namespace SearchToDeploy.Cli.Serving;

/// <summary>GET /openapi.json: the server's API as an OpenAPI 3.0 document (what each route takes and answers).</summary>
public static class OpenApiDocument
{
    public static string Json(string modelName, DeployedModel model)
    {
        JsonObject Error(string description) => new()
        {
            ["description"] = description,
            ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/Error" } } },
        };
        JsonObject Ok(string description, string type = "application/json") => new() { ["description"] = description, ["content"] = new JsonObject { [type] = new JsonObject() } };
        JsonObject Get(string summary, string description) => new() { ["get"] = new JsonObject { ["summary"] = summary, ["responses"] = new JsonObject { ["200"] = Ok(description) } } };
        var modelParam = new JsonObject { ["name"] = "name", ["in"] = "path", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray(modelName) } };
        var image = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string", ["format"] = "binary" } };
        var doc = new JsonObject
        {
            ["openapi"] = "3.0.3",
            ["info"] = new JsonObject
            {
                ["title"] = "s2d serve", ["version"] = typeof(OpenApiDocument).Assembly.GetName().Version?.ToString(),
                ["description"] = $"Image classification with '{modelName}' ({model.Classes.Count} classes, {model.InputSize}x{model.InputSize} input). " +
                                  "The /v2 routes follow the Open Inference Protocol (KServe V2) REST API.",
            },
            ["paths"] = new JsonObject
            {
                ["/v1/classify"] = new JsonObject
                {
                    ["post"] = new JsonObject
                    {
                        ["summary"] = "Top-k labels and probabilities of one JPEG or PNG image (EXIF orientation applied)",
                        ["parameters"] = new JsonArray(new JsonObject { ["name"] = "top", ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["default"] = 5 } }),
                        ["requestBody"] = new JsonObject
                        {
                            ["required"] = true,
                            ["content"] = new JsonObject
                            {
                                ["image/jpeg"] = image.DeepClone(), ["image/png"] = image.DeepClone(), ["application/octet-stream"] = image.DeepClone(),
                                ["multipart/form-data"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "object", ["description"] = "the first file field, of any name", ["properties"] = new JsonObject { ["file"] = new JsonObject { ["type"] = "string", ["format"] = "binary" } } } },
                            },
                        },
                        ["responses"] = new JsonObject
                        {
                            ["200"] = Ok("predictions: label, index, probability"), ["400"] = Error("empty or undecodable image, bad top"), ["413"] = Error("over the byte or pixel limit"),
                            ["415"] = Error("unsupported Content-Type"), ["503"] = Error("queue full or decoders busy; see Retry-After"),
                        },
                    },
                },
                ["/v1/model"] = Get("The model's metadata: classes, preprocessing, genotype, metrics", "model metadata"),
                ["/healthz"] = Get("Liveness", "ok"),
                ["/metrics"] = new JsonObject { ["get"] = new JsonObject { ["summary"] = "Prometheus metrics", ["responses"] = new JsonObject { ["200"] = Ok("text format 0.0.4", "text/plain") } } },
                ["/v2"] = Get("Server metadata", "name, version, extensions"),
                ["/v2/health/live"] = Get("Server liveness", "live"),
                ["/v2/health/ready"] = Get("Server readiness", "ready"),
                ["/v2/models/{name}"] = new JsonObject { ["get"] = new JsonObject { ["summary"] = "Model metadata: inputs, outputs, datatypes, shapes", ["parameters"] = new JsonArray(modelParam.DeepClone()), ["responses"] = new JsonObject { ["200"] = Ok("metadata"), ["404"] = Error("unknown model") } } },
                ["/v2/models/{name}/ready"] = new JsonObject { ["get"] = new JsonObject { ["summary"] = "Model readiness", ["parameters"] = new JsonArray(modelParam.DeepClone()), ["responses"] = new JsonObject { ["200"] = Ok("ready"), ["404"] = Error("unknown model") } } },
                ["/v2/models/{name}/infer"] = new JsonObject
                {
                    ["post"] = new JsonObject
                    {
                        ["summary"] = $"Inference: input FP32 [N, 3, {model.InputSize}, {model.InputSize}] (preprocessed) or BYTES [N] (base64 JPEG/PNG); outputs logits or probabilities, or their top k with parameters.classification",
                        ["parameters"] = new JsonArray(modelParam.DeepClone()),
                        ["requestBody"] = new JsonObject { ["required"] = true, ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/InferenceRequest" } } } },
                        ["responses"] = new JsonObject { ["200"] = Ok("model_name, model_version, id, outputs"), ["400"] = Error("malformed request"), ["404"] = Error("unknown model"), ["413"] = Error("too large"), ["503"] = Error("queue full; see Retry-After") },
                    },
                },
                ["/openapi.json"] = Get("This document", "OpenAPI 3.0"),
            },
            ["components"] = new JsonObject
            {
                ["schemas"] = new JsonObject
                {
                    ["Error"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["error"] = new JsonObject { ["type"] = "string" } }, ["required"] = new JsonArray("error") },
                    ["Tensor"] = new JsonObject
                    {
                        ["type"] = "object", ["required"] = new JsonArray("name", "shape", "datatype", "data"),
                        ["properties"] = new JsonObject
                        {
                            ["name"] = new JsonObject { ["type"] = "string" }, ["shape"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "integer" } },
                            ["datatype"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("FP32", "BYTES") }, ["data"] = new JsonObject { ["type"] = "array", ["items"] = new JsonObject() },
                        },
                    },
                    ["InferenceRequest"] = new JsonObject
                    {
                        ["type"] = "object", ["required"] = new JsonArray("inputs"),
                        ["properties"] = new JsonObject
                        {
                            ["id"] = new JsonObject { ["type"] = "string" },
                            ["inputs"] = new JsonObject { ["type"] = "array", ["minItems"] = 1, ["maxItems"] = 1, ["items"] = new JsonObject { ["$ref"] = "#/components/schemas/Tensor" } },
                            ["outputs"] = new JsonObject
                            {
                                ["type"] = "array",
                                ["items"] = new JsonObject
                                {
                                    ["type"] = "object",
                                    ["properties"] = new JsonObject
                                    {
                                        ["name"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("logits", "probabilities") },
                                        ["parameters"] = new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["classification"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1 } } },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        };
        // The versioned routes answer as the plain ones for the model's one version.
        var paths = doc["paths"]!.AsObject();
        var version = new JsonObject { ["name"] = "version", ["in"] = "path", ["required"] = true, ["schema"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("1") } };
        foreach (string route in new[] { "", "/ready", "/infer" })
        {
            var copy = paths[$"/v2/models/{{name}}{route}"]!.DeepClone().AsObject();
            foreach (var (_, operation) in copy) operation!["parameters"]!.AsArray().Add(version.DeepClone());
            paths[$"/v2/models/{{name}}/versions/{{version}}{route}"] = copy;
        }
        return doc.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }
}
