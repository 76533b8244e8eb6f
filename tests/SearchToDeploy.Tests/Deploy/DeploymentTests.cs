using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using SearchToDeploy.Cli;
using SearchToDeploy.Cli.Serving;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Transforms;
using SearchToDeploy.Deploy.Export;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Deploy.Validation;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Runs.Training;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Deploy;

/// <summary>A tiny NAS-Bench-201 network trained on real CIFAR-10 and exported once for the deployment tests.</summary>
public sealed class TrainedModelFixture : IDisposable
{
    public TrainedModelFixture()
    {
        var o = TrainPresets.Create("smoke", NetworkKind.Nb201) with
        {
            Channels = 4, Layers = 1, Epochs = 1, BatchSize = 32, MaxTrainImages = 512, MaxValidImages = 64, Workers = 0, EvalBatchSize = 64,
        };
        new TrainRunner(o, Architecture.ParseText(KnownGenotypes.Nb201Best), Cifar, Dir["train"], TextWriter.Null, TestCompute.Cpu).Run(resume: false);
        Parity = ModelExporter.Export(Dir["train"], ModelPath, TextWriter.Null, images: Cifar.Open(Split.Test), imageCount: 32);
    }

    public TempDir Dir { get; } = new();
    public string ModelPath => Dir["model.onnx"];
    public string TrainDir => Dir["train"];
    public ParityResult Parity { get; }
    public static DatasetRef Cifar => DatasetRef.Resolve("cifar10", TestPaths.DataRoot);
    public void Dispose() => Dir.Dispose();
}

public sealed class DeploymentTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    [Fact]
    public void Export_checks_parity_and_writes_the_metadata()
    {
        Assert.True(fixture.Parity.MaxAbsDiff <= ModelExporter.Tolerance, $"parity {fixture.Parity.MaxAbsDiff:e2}");
        Assert.Equal(32, fixture.Parity.Images);
        var meta = OnnxModelFile.ReadMetadata(fixture.ModelPath);
        Assert.Equal(KnownGenotypes.Nb201Best, meta[ModelMetadata.Keys.Architecture]);
        Assert.Equal("airplane", JsonSerializer.Deserialize<string[]>(meta[ModelMetadata.Keys.Classes])![0]);
        Assert.Equal("32", meta[ModelMetadata.Keys.InputSize]);
        Assert.Contains("best_top1", meta[ModelMetadata.Keys.Metrics]);
        // The genotype contract: the model carries the training run's genotype.json, the export's provenance appended,
        // and it loads with the same code as the file.
        var carried = ModelMetadata.Read(fixture.ModelPath).Genotype;
        Assert.Equal(KnownGenotypes.Nb201Best, carried.Architecture.Text);
        Assert.Equal(["train", "export"], carried.Provenance.Select(p => p["stage"]!.GetValue<string>()));
        var trained = GenotypeFile.LoadDocument(Path.Combine(fixture.TrainDir, GenotypeFile.FileName));
        Assert.Equal(trained.Provenance.Count + 1, carried.Provenance.Count);
        Assert.Equal(trained.Provenance[0].ToJsonString(), carried.Provenance[0].ToJsonString());
        Assert.Equal("folded", carried.Stage("export")!["batch_norm"]!.GetValue<string>());
        Assert.Equal(KnownGenotypes.Nb201Best, GenotypeDocument.Parse(meta[ModelMetadata.Keys.Genotype], "metadata").Architecture.Text);
    }

    [Fact]
    public void Validator_top1_equals_an_independent_count_on_the_real_test_set()
    {
        var test = TrainedModelFixture.Cifar.Open(Split.Test);
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        var report = Validator.Run(model, test, "cifar10", 500, 0, null, null, TextWriter.Null, workers: 1);
        Assert.Equal(10_000, report.Images);

        // Independent count: the TorchSharp network from the checkpoint, CIFAR's own evaluation transform.
        using var trained = TrainedModel.Load(fixture.Dir["train"]);
        var loader = new DataLoader(test, null, CifarTransform.Eval(Normalization.Cifar10), new LoaderOptions(1000, false, 0, Workers: 1));
        long correct = 0;
        foreach (var b in loader.Epoch(0))
        {
            using var scope = torch.NewDisposeScope();
            var (x, y) = b.ToTensors();
            b.Dispose();
            using var _ = torch.no_grad();
            correct += trained.Network.call(x).argmax(1).eq(y).sum().item<long>();
        }
        Assert.Equal(correct, report.Top1Correct);
        Assert.Equal(100.0 * correct / 10_000, report.Top1, 9);
        Assert.Equal(10, report.PerClass.Count);
        Assert.Equal(10_000, report.PerClass.Sum(c => c.Images));
    }

    [Fact]
    public void A_dataset_listing_the_models_classes_in_another_order_is_matched_by_name()
    {
        var test = TrainedModelFixture.Cifar.Open(Split.Test);
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        var log = new StringWriter();
        var asIs = Validator.Run(model, test, "cifar10", 500, 0, null, null, TextWriter.Null, workers: 1);
        var reversed = Validator.Run(model, new ReversedClasses(test), "reversed", 500, 0, null, null, log, workers: 1);
        Assert.Contains("lists the model's classes in another order; matching them by name", log.ToString());
        Assert.Equal((asIs.Top1Correct, asIs.Top5Correct), (reversed.Top1Correct, reversed.Top5Correct));
        Assert.Equal(asIs.PerClass, reversed.PerClass);
        Assert.Equal((10_000, 10_000), (reversed.Images, reversed.SplitImages));
    }

    /// <summary>The same images with the class list reversed (label i is class 9 - i of the original).</summary>
    private sealed class ReversedClasses(IImageDataset inner) : IImageDataset
    {
        public string Source => inner.Source;
        public int Count => inner.Count;
        public IReadOnlyList<string> Classes { get; } = [.. inner.Classes.Reverse()];
        public int LabelOf(int index) => inner.Classes.Count - 1 - inner.LabelOf(index);
        public RgbImage Load(int index) => inner.Load(index);
        public string Describe(int index) => inner.Describe(index);
    }

    [Fact]
    public void Top_k_ranks_by_logit_where_probabilities_underflow_to_the_same_zero()
    {
        var top = DeployedModel.TopK([1000f, -1f, 0f], 2);
        Assert.Equal([0, 2], top.Select(t => t.Index));
        Assert.Equal(1f, top[0].Probability);
    }

    [Fact]
    public void A_model_whose_outputs_are_not_finite_is_refused_and_such_logits_rank_no_class()
    {
        var model = SearchToDeploy.Deploy.Onnx.Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(fixture.ModelPath));
        var gemm = model.Graph.Node.Last(n => n.OpType == "Gemm");
        var weights = model.Graph.Initializer.Single(t => t.Name == gemm.Input[1]);
        weights.RawData = Google.Protobuf.ByteString.CopyFrom(Enumerable.Repeat(BitConverter.GetBytes(float.NaN), weights.RawData.Length / 4).SelectMany(b => b).ToArray());
        string path = fixture.Dir["nan-classifier.onnx"];
        File.WriteAllBytes(path, Google.Protobuf.MessageExtensions.ToByteArray(model));
        var e = Assert.Throws<OnnxFormatException>(() => new DeployedModel(path, OnnxExecutionProvider.Cpu));
        Assert.Contains("not finite numbers", e.Message);
        Assert.Throws<ArgumentException>(() => DeployedModel.TopK([float.NaN, 1f, 0f], 2));
        Assert.False(DeployedModel.AllFinite([0f, float.PositiveInfinity]));
    }

    [Fact]
    public void Gate_messages_tell_apart_an_accuracy_just_under_its_gate_and_one_rule_decides_everywhere()
    {
        var report = new ValidationReport { Model = "m.onnx", Dataset = "imagenet", Images = 50_000, Top1 = 74.598, Top1Correct = 37_299, Top5 = 93, Top5Correct = 46_500, GateTop1 = 74.6, GateTop5 = 90 };
        var e = Assert.Throws<GateFailedException>(() => Validator.WriteAndGate(report, null, TextWriter.Null));
        Assert.Contains("top-1 74.598% (37299/50000) is under the gate of 74.6%", e.Message);
        var failure = Assert.Single(JUnitReport.Of(report).Descendants("failure"));
        Assert.Contains("74.598% is under the gate of 74.6%", (string?)failure.Attribute("message"));
        // A report that says it failed is not passed by a second reading of its gates.
        Assert.Throws<GateFailedException>(() => Validator.WriteAndGate(report with { Top1 = 80, Passed = false }, null, TextWriter.Null));
        Validator.WriteAndGate(report with { Top1 = 80, Passed = true }, null, TextWriter.Null);
        Assert.False(ValidationReport.Meets(double.NaN, 10));
        Assert.True(ValidationReport.Meets(double.NaN, null));
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        var bad = Assert.Throws<InputException>(() => Validator.Run(model, TrainedModelFixture.Cifar.Open(Split.Test), "cifar10", 50, 100, double.NaN, null, TextWriter.Null));
        Assert.Contains("the top-1 gate NaN: expected a percentage from 0 to 100", bad.Message);
        var fraction = Assert.Throws<InputException>(() => Validator.Run(model, TrainedModelFixture.Cifar.Open(Split.Test), "cifar10", 50, 100, null, 0.9, TextWriter.Null));
        Assert.Contains("the top-5 gate 0.9: gates are percentages", fraction.Message);
    }

    [Fact]
    public void Validate_command_exits_3_under_the_gate_and_0_above_it()
    {
        string report = fixture.Dir["report.json"];
        var output = new StringWriter();
        string junit = fixture.Dir["gates.xml"];
        var args = new[] { "validate", "--model", fixture.ModelPath, "--dataset", "cifar10", "--data-root", TestPaths.DataRoot, "--max-images", "500", "--ep", "cpu", "--report", report, "--junit", junit };
        Assert.Equal(0, S2dApp.Run([.. args, "--gate-top1", "5", "--gate-top5", "20"], output, output));
        double top1 = JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("top1").GetDouble();
        var passed = System.Xml.Linq.XDocument.Load(junit).Root!;
        Assert.Equal(("2", "0"), ((string?)passed.Attribute("tests"), (string?)passed.Attribute("failures")));
        Assert.Equal(2, passed.Descendants("testcase").Count());
        Assert.Empty(passed.Descendants("failure"));

        var err = new StringWriter();
        string over = (top1 + 0.1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(S2dApp.GateFailed, S2dApp.Run([.. args, "--gate-top1", over, "--gate-top5", "20"], output, err));
        Assert.Contains("under the gate", err.ToString());
        Assert.False(JsonDocument.Parse(File.ReadAllText(report)).RootElement.GetProperty("passed").GetBoolean());
        var failed = System.Xml.Linq.XDocument.Load(junit).Root!;
        Assert.Equal("1", (string?)failed.Attribute("failures"));
        var failure = Assert.Single(failed.Descendants("failure"));
        Assert.StartsWith("top-1 >= ", (string?)failure.Parent!.Attribute("name"));
        Assert.Contains("under the gate", (string?)failure.Attribute("message"));
        // Test names as a CI system keys their history: no path of this machine; the schema's timestamp.
        Assert.All(failed.Descendants("testcase"), c => Assert.DoesNotContain(TestPaths.DataRoot, (string?)c.Attribute("name")));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$", (string?)failed.Element("testsuite")!.Attribute("timestamp"));

        // A validation that fails before its gates leaves no earlier run's XML for a CI step to read.
        Assert.Equal(S2dApp.BadInput, S2dApp.Run(["validate", "--model", fixture.ModelPath, "--dataset", "imagefolder", "--data", fixture.Dir["nowhere"], "--junit", junit], output, err));
        Assert.False(File.Exists(junit));
    }

    [Fact]
    public void Truncated_or_foreign_models_are_bad_input()
    {
        var bytes = File.ReadAllBytes(fixture.ModelPath);
        File.WriteAllBytes(fixture.Dir["truncated.onnx"], bytes[..(bytes.Length / 2)]);
        File.WriteAllText(fixture.Dir["foreign.onnx"], "not a model");
        var err = new StringWriter();
        foreach (var f in new[] { "truncated.onnx", "foreign.onnx", "missing.onnx" })
            Assert.Equal(S2dApp.BadInput, S2dApp.Run(["validate", "--model", fixture.Dir[f], "--dataset", "cifar10", "--data-root", TestPaths.DataRoot], TextWriter.Null, err));
        Assert.Contains("truncated.onnx", err.ToString());
    }

    [Fact]
    public async Task Server_classifies_real_images_refuses_bad_requests_and_serves_concurrent_clients()
    {
        using var model = new DeployedModel(fixture.ModelPath, OnnxExecutionProvider.Cpu);
        int port = FreePort();
        var app = ModelServer.Build(new ServerOptions(fixture.ModelPath, $"http://127.0.0.1:{port}", MaxBodyBytes: 200_000), model, TextWriter.Null);
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            // A real CIFAR-10 test image as PNG: the server's top-1 is the validator's (the same session and preprocessing).
            var image = TrainedModelFixture.Cifar.Open(Split.Test).Load(7);
            byte[] png = EncodePng(image);
            var expected = model.Classify(ImageDecoder.Decode(png, "test"), 1)[0].Label;
            var response = await Post(http, png, "image/png");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using (var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
                Assert.Equal(expected, json.RootElement.GetProperty("predictions")[0].GetProperty("label").GetString());

            Assert.Equal(HttpStatusCode.BadRequest, (await Post(http, "garbage"u8.ToArray(), "image/jpeg")).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await Post(http, [], "image/png")).StatusCode);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Post(http, new byte[300_000], "image/png")).StatusCode);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await Post(http, png, "text/plain")).StatusCode);
            // A header that claims 20000x20000 pixels: refused from the header, before any decoding.
            var bomb = await Post(http, PngHeader(20000, 20000), "image/png");
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bomb.StatusCode);
            Assert.Contains("20000x20000 pixels is over the limit", await bomb.Content.ReadAsStringAsync());
            var bad = await Post(http, png[..(png.Length / 2)], "image/png");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("\"error\"", await bad.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
            Assert.Contains(KnownGenotypes.Nb201Best, await http.GetStringAsync("/v1/model"));
            Assert.Contains("<input type=\"file\"", await http.GetStringAsync("/"));

            var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Post(http, png, "image/png")));
            Assert.All(results, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static async Task<HttpResponseMessage> Post(HttpClient http, byte[] body, string type)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(type);
        return await http.PostAsync("/v1/classify", content);
    }

    internal static byte[] EncodePng(RgbImage image)
    {
        using var bmp = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                var (r, g, b) = image[y, x];
                bmp.SetPixel(x, y, new SKColor(r, g, b));
            }
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A PNG claiming width x height RGB pixels in its header, with one short block of image data.</summary>
    internal static byte[] PngHeader(int width, int height)
    {
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 2;
        byte[] idat = [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]; // zlib of one zero byte
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, .. Chunk("IHDR", ihdr), .. Chunk("IDAT", idat), .. Chunk("IEND", [])];
    }

    private static byte[] Chunk(string type, byte[] data)
    {
        byte[] t = System.Text.Encoding.ASCII.GetBytes(type);
        var chunk = new byte[12 + data.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        t.CopyTo(chunk, 4);
        data.CopyTo(chunk, 8);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32([.. t, .. data]));
        return chunk;
    }

    /// <summary>The PNG (zlib) CRC-32 of the bytes.</summary>
    private static uint Crc32(byte[] bytes)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }

    [Theory]
    [InlineData(ModelMetadata.Keys.InputSize, "64", "the graph's input is [N, 3, 32, 32] but its metadata says 64x64")]
    [InlineData(ModelMetadata.Keys.Std, "[0, 0, 0]", "std [0, 0, 0]: expected 3 positive numbers")]
    [InlineData(ModelMetadata.Keys.Mean, "[0.5, 0.5]", "mean [0.5, 0.5]: expected 3 finite numbers")]
    [InlineData(ModelMetadata.Keys.Classes, "[\"a\", \"b\"]", "the model gives 10 outputs for one image but its metadata names 2 classes")]
    public void A_model_whose_metadata_does_not_fit_it_is_refused_by_validate_and_serve(string key, string value, string message)
    {
        using var dir = new TempDir();
        var proto = OnnxModelFile.Read(fixture.ModelPath);
        proto.MetadataProps.First(p => p.Key == key).Value = value;
        OnnxModelFile.Write(dir["bad.onnx"], proto);
        var validate = SearchToDeploy.Tests.Cli.CliTests.Run("validate", "--model", dir["bad.onnx"], "--dataset", "cifar10", "--data-root", TestPaths.DataRoot, "--ep", "cpu", "--max-images", "20");
        // An address no interface here has (TEST-NET-1): should the model's check ever pass, binding fails at once instead of serving forever.
        var serve = SearchToDeploy.Tests.Cli.CliTests.Run("serve", "--model", dir["bad.onnx"], "--urls", "http://192.0.2.1:5000", "--ep", "cpu");
        foreach (var (code, _, err) in new[] { validate, serve })
        {
            Assert.Equal(2, code);
            Assert.Contains(dir["bad.onnx"], err);
            Assert.Contains(message, err);
            Assert.DoesNotContain("   at ", err);
        }
    }

    [Fact]
    public void Serve_on_a_port_another_process_holds_names_the_address()
    {
        var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            string url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";
            var (code, _, err) = SearchToDeploy.Tests.Cli.CliTests.Run("serve", "--model", fixture.ModelPath, "--urls", url, "--ep", "cpu");
            Assert.Equal(2, code);
            Assert.Contains($"--urls {url}:", err);
            Assert.DoesNotContain("   at ", err);
        }
        finally { taken.Stop(); }
    }

    internal static int FreePort()
    {
        var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
