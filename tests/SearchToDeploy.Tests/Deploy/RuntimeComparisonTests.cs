using SearchToDeploy.Benchmarks;
using SearchToDeploy.Cli;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Nas.Networks;
using TorchSharp;

namespace SearchToDeploy.Tests.Deploy;

/// <summary>
/// The runtime comparisons the GPU check reports, run on the CPU: logit parity between TorchSharp and ONNX Runtime, and
/// evaluation throughput per execution provider. On a GPU the same code adds the CUDA rows.
/// </summary>
public sealed class RuntimeComparisonTests(TrainedModelFixture fixture) : IClassFixture<TrainedModelFixture>
{
    [Fact]
    public void Parity_compares_onnx_runtime_with_torchsharp_and_counts_top1_agreement()
    {
        var (table, rows) = ParityCheck.Run(fixture.TrainDir, 8, torch.CPU, OnnxExecutionProvider.Cpu, threads: 1, TextWriter.Null);
        var row = Assert.Single(rows);
        Assert.Equal("ONNX Runtime cpu vs TorchSharp cpu", row.Pair);
        Assert.InRange(row.MaxAbs, 0, 1e-4);
        Assert.Equal(1.0, row.Top1Agreement);
        Assert.Contains("top-1 agreement %", table.ToMarkdown());

        // Two images of three classes: image 0 agrees on class 2, image 1 does not (1 vs 0); largest difference 0.5.
        var r = ParityCheck.Compare("a vs b", [0f, 1f, 2f, 3f, 2.5f, 0f], [0f, 1f, 2.5f, 2.5f, 3f, 0f], batch: 2);
        Assert.Equal(0.5, r.MaxAbs, 6);
        Assert.Equal(0.5, r.Top1Agreement);
        Assert.Equal(0.5 / 3, r.MaxRelative, 6);
    }

    [Fact]
    public void The_onnx_benchmark_measures_each_provider_asked_for_and_refuses_cuda_where_it_cannot_load()
    {
        int threads = torch.get_num_threads();
        BenchTable table;
        try { table = OnnxBenchmark.Run(fixture.TrainDir, [1, 4], threads: 1, secondsPerVariant: 0.05, TextWriter.Null, [OnnxExecutionProvider.Cpu], torch.CPU); }
        finally { torch.set_num_threads(threads); } // the benchmark sets torch's threads; later tests keep theirs
        string md = table.ToMarkdown();
        Assert.Contains("ORT cpu images/s", md);
        Assert.Contains("TorchSharp cpu images/s", md);
        Assert.Equal(["batch 1", "batch 4"], table.Rows.Select(r => r.Name));
        if (OnnxCudaProvider.WhyNot() is not null)
            Assert.Throws<InputException>(() => OnnxBenchmark.Run(fixture.TrainDir, [1], 1, 0.05, TextWriter.Null, [OnnxExecutionProvider.Cuda], torch.CPU));
    }

    [Fact]
    public void The_serving_benchmark_without_a_server_is_bad_input_and_epochs_count_each_networks_data()
    {
        string image = Directory.EnumerateFiles(TestPaths.ImageNetSample, "*.JPEG", SearchOption.AllDirectories).First();
        foreach (var (url, message) in new[] { ("notaurl", "expected an http:// or https:// address"), ("http://127.0.0.1:1", "no server answers there") })
        {
            var error = new StringWriter();
            Assert.Equal(S2dApp.BadInput, S2dApp.Run(["bench", "serve", "--url", url, "--image", image, "--requests", "1"], TextWriter.Null, error));
            Assert.Contains(message, error.ToString());
        }
        // The epoch hours of bench train --network: ImageNet's 1.28M images for the mobile network, not Imagenette's.
        Assert.Equal(TrainBenchmark.ImageNetEpochImages, TrainBenchmark.EpochImages(NetworkKind.ImageNet));
        Assert.Equal(TrainBenchmark.ImagenetteEpochImages, TrainBenchmark.EpochImages(NetworkKind.Nb201x64));
        Assert.Equal(TrainBenchmark.CifarEpochImages, TrainBenchmark.EpochImages(NetworkKind.Cifar));
    }

    [Fact]
    public void Benchmarks_asked_for_cuda_without_a_gpu_fail_with_exit_code_2()
    {
        if (torch.cuda.is_available()) return;
        var error = new StringWriter();
        Assert.Equal(S2dApp.BadInput, S2dApp.Run(["bench", "search", "--synthetic", "--device", "cuda"], TextWriter.Null, error));
        Assert.Contains("--device cuda", error.ToString());
        Assert.Equal(S2dApp.BadInput, S2dApp.Run(["bench", "train", "--network", "nb201", "--device", "cuda"], TextWriter.Null, error));
    }
}
