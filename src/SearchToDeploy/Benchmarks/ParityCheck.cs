using SearchToDeploy.Core.Torch;
using SearchToDeploy.Deploy.Inference;
using SearchToDeploy.Runs.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Benchmarks;

/// <summary>
/// <c>s2d bench parity</c>: how far the logits of one trained network differ between runtimes and devices, on one seeded
/// batch of normal noise: TorchSharp on the device against TorchSharp on the CPU, ONNX Runtime's CPU provider against
/// TorchSharp on the CPU (what <c>s2d export</c> checks), and ONNX Runtime's other provider against its CPU provider.
/// Each row gives the largest absolute difference, the largest relative to the logits' range, and the share of images
/// whose top-1 class agrees.
/// </summary>
public static class ParityCheck
{
    public sealed record Row(string Pair, double MaxAbs, double MaxRelative, double Top1Agreement);

    public static (BenchTable Table, List<Row> Rows) Run(string run, int batch, Device device, OnnxExecutionProvider provider, int threads, TextWriter log)
    {
        using var model = TrainedModel.Load(run);
        int s = model.Header.InputSize;
        var onnx = BenchInputs.Onnx(model);
        var x = BenchInputs.NormalImages(batch, s);
        long[] shape = [batch, 3, s, s];
        model.Network.eval();
        float[] TorchOn(Device d)
        {
            model.Network.to(d);
            using var _ = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            return model.Network.call(torch.tensor(x, shape).to(d)).cpu().data<float>().ToArray();
        }
        float[] Ort(OnnxExecutionProvider p)
        {
            using var session = new OnnxInference(onnx, p, threads);
            return session.Run(x, shape);
        }
        var torchCpu = TorchOn(torch.CPU);
        var ortCpu = Ort(OnnxExecutionProvider.Cpu);
        var rows = new List<Row> { Compare("ONNX Runtime cpu vs TorchSharp cpu", ortCpu, torchCpu, batch) };
        if (device.type != DeviceType.CPU) rows.Insert(0, Compare($"TorchSharp {TorchDevices.Describe(device)} vs TorchSharp cpu", TorchOn(device), torchCpu, batch));
        if (provider != OnnxExecutionProvider.Cpu) rows.Add(Compare($"ONNX Runtime {provider.Name()} vs ONNX Runtime cpu", Ort(provider), ortCpu, batch));
        model.Network.to(torch.CPU);
        var table = new BenchTable($"Logit parity, {Nas.Networks.RetrainNetwork.KindName(model.Header.Network)} network ({model.Header.Architecture}), batch {batch} of normal noise, {s}x{s}",
            "max abs diff", "max diff / logit range", "top-1 agreement %");
        foreach (var r in rows)
        {
            log.WriteLine($"{r.Pair}: max |diff| {r.MaxAbs:0.###e+0}, relative {r.MaxRelative:0.###e+0}, top-1 agreement {100 * r.Top1Agreement:0.0}%");
            table.Add(r.Pair, $"batch {batch}", ("max abs diff", r.MaxAbs), ("max diff / logit range", r.MaxRelative), ("top-1 agreement %", 100 * r.Top1Agreement));
        }
        return (table, rows);
    }

    /// <summary>Differences of two [batch, classes] logit arrays.</summary>
    public static Row Compare(string pair, float[] a, float[] b, int batch)
    {
        if (a.Length != b.Length || a.Length % batch != 0) throw new ArgumentException($"{pair}: {a.Length} logits against {b.Length}");
        int classes = a.Length / batch;
        double maxAbs = 0, range = b.Max() - b.Min();
        int agree = 0;
        for (int n = 0; n < batch; n++)
        {
            int ia = 0, ib = 0;
            for (int c = 0; c < classes; c++)
            {
                int k = n * classes + c;
                maxAbs = Math.Max(maxAbs, Math.Abs(a[k] - b[k]));
                if (a[k] > a[n * classes + ia]) ia = c;
                if (b[k] > b[n * classes + ib]) ib = c;
            }
            if (ia == ib) agree++;
        }
        return new Row(pair, maxAbs, range > 0 ? maxAbs / range : maxAbs, (double)agree / batch);
    }
}
