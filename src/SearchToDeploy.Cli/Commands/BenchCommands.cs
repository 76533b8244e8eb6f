using System.CommandLine;
using SearchToDeploy.Benchmarks;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Inference;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d bench ...</c>: measurements written as Markdown tables (for docs/benchmarks.md).</summary>
public static class BenchCommands
{
    public static Command Create(CliIo io)
    {
        var bench = new Command("bench", "Measure speed and memory; prints Markdown tables (see docs/benchmarks.md)");
        bench.Subcommands.Add(Data(io));
        bench.Subcommands.Add(Search(io));
        bench.Subcommands.Add(Train(io));
        bench.Subcommands.Add(Onnx(io));
        bench.Subcommands.Add(Serve(io));
        bench.Subcommands.Add(Parity(io));
        return bench;
    }

    private static Command Onnx(CliIo io)
    {
        var run = new Option<string>("--run") { Description = "Training run folder (its best checkpoint is measured)", Required = true };
        var batches = new Option<int[]>("--batch") { Description = "Batch sizes", DefaultValueFactory = _ => [1, 32, 256], AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int>("--threads") { Description = "Threads of both runtimes", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seconds = new Option<double>("--seconds") { Description = "Seconds per runtime and batch size", DefaultValueFactory = _ => 5 };
        var output = new Option<string?>("--output") { Description = "Also write the table to this Markdown file" };
        var providers = new Option<string[]>("--ep") { Description = "ONNX Runtime execution providers to measure, each in turn: cpu, cuda", DefaultValueFactory = _ => ["cpu"], AllowMultipleArgumentsPerToken = true };
        var device = CommonOptions.Device();
        device.Description = "Where the TorchSharp side runs: cpu, cuda, cuda:N or auto (default: cpu)";
        var cmd = new Command("onnx", "Evaluation images/s of a trained network in ONNX Runtime (per execution provider) vs TorchSharp, same threads, several batch sizes");
        foreach (var o in new Option[] { run, batches, threads, seconds, output, providers, device }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() => Report(io, OnnxBenchmark.Run(r.GetValue(run)!, r.GetValue(batches)!, r.GetValue(threads), r.GetValue(seconds), io.Out,
            [.. r.GetValue(providers)!.SelectMany(p => p.Split(',', StringSplitOptions.RemoveEmptyEntries)).Select(OnnxExecutionProviders.Parse).Distinct()],
            TorchDevices.Resolve(r.GetValue(device) ?? "cpu")), r.GetValue(output))));
        return cmd;
    }

    private static Command Parity(CliIo io)
    {
        var run = new Option<string>("--run") { Description = "Training run folder (its best checkpoint is compared)", Required = true };
        var batch = new Option<int>("--batch-size") { Description = "Images in the batch", DefaultValueFactory = _ => 32 };
        var device = CommonOptions.Device();
        device.Description = "The TorchSharp device compared with the CPU: cuda, cuda:N or auto (default; cpu compares nothing more)";
        var provider = CommonOptions.ExecutionProvider();
        provider.Description = "The ONNX Runtime provider compared with its CPU provider: cuda, auto (default; CUDA when usable) or cpu";
        var threads = new Option<int>("--threads") { Description = "CPU threads of both runtimes (0: all cores)" };
        var output = new Option<string?>("--output") { Description = "Also write the table to this Markdown file" };
        var cmd = new Command("parity", "Largest logit differences of a trained network: TorchSharp on the GPU vs the CPU, ONNX Runtime vs TorchSharp, ONNX Runtime CUDA vs CPU");
        foreach (var o in new Option[] { run, batch, device, provider, threads, output }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            if (r.GetValue(threads) > 0) TorchSharp.torch.set_num_threads(r.GetValue(threads));
            var ep = OnnxExecutionProviders.Parse(r.GetValue(provider)!);
            if (ep == OnnxExecutionProvider.Auto) ep = OnnxCudaProvider.WhyNot() is null ? OnnxExecutionProvider.Cuda : OnnxExecutionProvider.Cpu;
            var (table, _) = ParityCheck.Run(r.GetValue(run)!, r.GetValue(batch), TorchDevices.Resolve(r.GetValue(device) ?? "auto"), ep, r.GetValue(threads), io.Out);
            return Report(io, table, r.GetValue(output));
        }));
        return cmd;
    }

    private static Command Serve(CliIo io)
    {
        var url = new Option<string>("--url") { Description = "A running s2d serve", DefaultValueFactory = _ => "http://127.0.0.1:5000" };
        var image = new Option<string>("--image") { Description = "JPEG or PNG file to post", Required = true };
        var levels = new Option<int[]>("--concurrency") { Description = "Concurrent clients per level", DefaultValueFactory = _ => [1, 8], AllowMultipleArgumentsPerToken = true };
        var requests = new Option<int>("--requests") { Description = "Requests per level", DefaultValueFactory = _ => 400 };
        var output = new Option<string?>("--output") { Description = "Also write the table to this Markdown file" };
        var soak = new Option<bool>("--soak") { Description = "A mixed stream instead (ordinary, large-dimension, corrupt and oversized images) at the first --concurrency for --requests requests" };
        var pid = new Option<int?>("--server-pid") { Description = "With --soak: the server's process id, to measure its resident memory before, at the peak and after" };
        var maxBytes = new Option<long>("--max-bytes") { Description = "With --soak: the server's --max-bytes (the oversized bodies go just over it)", DefaultValueFactory = _ => 10L * 1024 * 1024 };
        var cmd = new Command("serve", "Requests/s and latency percentiles of a running s2d serve under a bounded load at several concurrencies, or (--soak) a mixed stream with the server's memory");
        foreach (var o in new Option[] { url, image, levels, requests, output, soak, pid, maxBytes }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            CommonOptions.OnlyWith(r, r.GetValue(soak), "--soak", pid, maxBytes);
            string path = r.GetValue(image)!;
            if (!File.Exists(path)) throw new InputException($"--image {path}: file not found");
            string type = path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? "image/png" : "image/jpeg";
            if (r.GetValue(pid) is int serverPid && !Directory.Exists($"/proc/{serverPid}"))
                throw new InputException($"--server-pid {serverPid}: no such process here (expected the process id of the running s2d serve)");
            CheckServer(r.GetValue(url)!);
            if (r.GetValue(soak))
            {
                var mix = ServeSoak.Mix(File.ReadAllBytes(path), type, r.GetValue(maxBytes));
                return Report(io, ServeSoak.Run(r.GetValue(url)!, mix, r.GetValue(levels)![0], r.GetValue(requests), r.GetValue(pid), io.Out).GetAwaiter().GetResult(), r.GetValue(output));
            }
            var table = ServeBenchmark.Run(r.GetValue(url)!, File.ReadAllBytes(path), type, r.GetValue(levels)!, r.GetValue(requests), io.Out).GetAwaiter().GetResult();
            return Report(io, table, r.GetValue(output));
        }));
        return cmd;
    }

    /// <summary>Bad input unless <paramref name="url"/> is an http(s) address where a server answers its health check.</summary>
    private static void CheckServer(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new InputException($"--url {url}: expected an http:// or https:// address of a running s2d serve");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var response = http.GetAsync(new Uri(uri, "/healthz")).GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode) throw new InputException($"--url {url}: GET /healthz answered {(int)response.StatusCode}; expected a running s2d serve");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new InputException($"--url {url}: no server answers there ({e.Message}); start one with s2d serve");
        }
    }

    private static Command Train(CliIo io)
    {
        var darts = new Option<string?>("--genotype") { Description = "DARTS-space genotype for the CIFAR and ImageNet networks (a file, a string or a published cell's name; default darts-v2)" };
        var nb201 = new Option<string?>("--nb201-arch") { Description = "NAS-Bench-201 arch string (default: the table's best CIFAR-10 cell)" };
        var imagenetBatch = new Option<int>("--imagenet-batch") { Description = "Batch size of the ImageNet workload", DefaultValueFactory = _ => 16 };
        var steps = new Option<int>("--steps") { Description = "Measured steps per workload (median, after a warm-up step)", DefaultValueFactory = _ => 3 };
        var threads = new Option<int>("--threads") { Description = "Torch threads (0 = all cores)" };
        var output = new Option<string?>("--output") { Description = "Also write the table to this Markdown file" };
        var network = CommonOptions.Network();
        network.Description = "Measure only this network (cifar, imagenet, imagenet-64 or nb201) at the size the next options give, instead of the default workloads";
        var channels = new Option<long>("--channels") { Description = "With --network: initial channels C", DefaultValueFactory = _ => 16 };
        var layers = new Option<int>("--layers") { Description = "With --network: cells (per stage for nb201)", DefaultValueFactory = _ => 8 };
        var imageSize = new Option<int?>("--image-size") { Description = "With --network: input size (default: the network's own)" };
        var batch = new Option<int>("--batch-size") { Description = "With --network: batch size", DefaultValueFactory = _ => 64 };
        var aux = new Option<bool>("--aux") { Description = "With --network: build and train the auxiliary head" };
        var device = CommonOptions.Device();
        var cmd = new Command("train", "Training images/s of the evaluation networks at paper and cpu-preset sizes, the time of one epoch here, and GFLOP/s against a matrix multiply's");
        foreach (var o in new Option[] { darts, nb201, imagenetBatch, steps, threads, output, network, channels, layers, imageSize, batch, aux, device }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            CommonOptions.OnlyWith(r, r.GetValue(network) is not null, "--network", channels, layers, imageSize, batch, aux);
            if (r.GetValue(threads) > 0) TorchSharp.torch.set_num_threads(r.GetValue(threads));
            var d = CommonOptions.LoadGenotype(r.GetValue(darts) ?? "darts-v2").Architecture;
            var n = CommonOptions.LoadGenotype(r.GetValue(nb201) ?? SearchToDeploy.Nas.Architectures.KnownGenotypes.Nb201Best).Architecture;
            var workloads = TrainBenchmark.Defaults(d, n, r.GetValue(imagenetBatch));
            if (r.GetValue(network) is { } name)
            {
                var kind = Nas.Networks.RetrainNetwork.ParseKind(name);
                var cfg = new Nas.Networks.NetworkConfig(kind, r.GetValue(channels), r.GetValue(layers), kind == Nas.Networks.NetworkKind.ImageNet ? 1000 : 10, r.GetValue(aux));
                int size = r.GetValue(imageSize) ?? Nas.Networks.NetworkConfig.DesignSize(kind);
                workloads = [new($"{Nas.Networks.RetrainNetwork.KindName(kind)} network (C={cfg.Channels}, {cfg.Layers} cells{(cfg.Auxiliary ? ", aux" : "")})",
                    Nas.Networks.RetrainNetwork.IsNb201(kind) ? n : d, cfg, size, r.GetValue(batch),
                    TrainBenchmark.EpochImages(kind))];
            }
            var table = TrainBenchmark.Run(workloads, r.GetValue(steps), io.Out, TorchDevices.Resolve(r.GetValue(device) ?? "auto"));
            return Report(io, table, r.GetValue(output));
        }));
        return cmd;
    }

    private static Command Search(CliIo io)
    {
        var root = CommonOptions.DataRoot();
        var spaces = new Option<string[]>("--space") { Description = "Spaces to measure", DefaultValueFactory = _ => ["nas-bench-201", "darts"], AllowMultipleArgumentsPerToken = true };
        var methods = new Option<string[]>("--method") { Description = "Methods to measure", DefaultValueFactory = _ => [.. SearchToDeploy.Nas.Strategies.SearchMethod.Names], AllowMultipleArgumentsPerToken = true };
        var batch = new Option<int>("--batch-size") { Description = "Batch size", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Measured steps per variant (after 2 warm-up steps)", DefaultValueFactory = _ => 5 };
        var threads = new Option<int>("--threads") { Description = "Torch threads (0 = all cores)" };
        var output = new Option<string?>("--output") { Description = "Also write the table to this Markdown file" };
        var reference = new Option<bool>("--reference") { Description = "Also measure each space with the edge-by-edge reference cells (to compare with the fused cells)" };
        var parallel = new Option<bool>("--parallel-steps") { Description = "Also measure each method with parallel steps (architecture and weight gradients side by side, one core each)" };
        var bf16 = new Option<bool>("--bf16") { Description = "Also measure each variant with bfloat16 activations (--precision bf16)" };
        var unrolled = new Option<bool>("--unrolled") { Description = "Also measure each method with the second-order (unrolled) architecture step, float32 (as S1-S4's paper preset runs DARTS and RF-DARTS)" };
        var device = CommonOptions.Device();
        var synthetic = new Option<bool>("--synthetic") { Description = "Random 32x32 images instead of CIFAR-10's (a machine without the dataset; a step's time does not depend on the pixels)" };
        var cmd = new Command("search", "Time per search step, images/s, peak memory and GFLOP/s for each space x method at the paper's supernet size");
        foreach (var o in new Option[] { root, spaces, methods, batch, steps, threads, output, reference, parallel, bf16, unrolled, device, synthetic }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            if (r.GetValue(threads) > 0) TorchSharp.torch.set_num_threads(r.GetValue(threads));
            var cifar = r.GetValue(synthetic) ? InMemoryImageDataset.Noise(4096, 32, 10, seed: 0)
                : DatasetRef.Resolve("cifar10", DataRoot.Resolve(r.GetValue(root))).Open(Split.Train);
            var (table, _, _) = SearchBenchmark.Run(cifar, r.GetValue(spaces)!, [.. r.GetValue(methods)!.Select(SearchToDeploy.Nas.Strategies.SearchMethod.Parse)],
                r.GetValue(batch), r.GetValue(steps), r.GetValue(reference), r.GetValue(parallel), r.GetValue(bf16), r.GetValue(unrolled), io.Out,
                TorchDevices.Resolve(r.GetValue(device) ?? "auto"));
            return Report(io, table, r.GetValue(output));
        }));
        return cmd;
    }

    private static Command Data(CliIo io)
    {
        var root = CommonOptions.DataRoot();
        var folder = new Option<string?>("--imagefolder") { Description = "An image folder for the ImageFolder pipeline (default: <data root>/imagenet-sample/val if present)" };
        var seconds = new Option<double>("--seconds") { Description = "Seconds per measurement", DefaultValueFactory = _ => 8 };
        var workers = new Option<int[]>("--workers") { Description = "Worker thread counts to measure", DefaultValueFactory = _ => [1, 2], AllowMultipleArgumentsPerToken = true };
        var output = new Option<string?>("--output") { Description = "Also write the table to this Markdown file" };
        var cmd = new Command("data", "images/s of the CIFAR training pipeline and the ImageFolder (decode + random-resized crop 224) pipeline");
        foreach (var o in new Option[] { root, folder, seconds, workers, output }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            string dataRoot = DataRoot.Resolve(r.GetValue(root));
            var cifar = DatasetRef.Resolve("cifar10", dataRoot).Open(Split.Train);
            string? given = r.GetValue(folder);
            if (given is not null && !Directory.Exists(given))
                throw new InputException($"--imagefolder {given}: no such folder; expected a folder of class folders of images");
            string folderPath = given ?? Path.Combine(dataRoot, "imagenet-sample", "val");
            IImageDataset? images = Directory.Exists(folderPath) ? ImageFolderDataset.Open(folderPath) : null;
            if (images is null) io.Out.WriteLine($"no image folder at {folderPath}: ImageFolder pipeline skipped (pass --imagefolder)");
            return Report(io, DataBenchmark.Run(cifar, images, r.GetValue(workers)!, r.GetValue(seconds), io.Out), r.GetValue(output));
        }));
        return cmd;
    }

    /// <summary>Prints the table as Markdown and, with --output, writes it to a file.</summary>
    private static int Report(CliIo io, BenchTable table, string? output)
    {
        string md = table.ToMarkdown();
        io.Out.WriteLine();
        io.Out.WriteLine(md);
        if (output is not null) SearchToDeploy.Core.Io.AtomicFile.WriteAllText(output, md);
        return S2dApp.Success;
    }
}
