using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Runs.Search;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

/// <summary>bfloat16 activations (--precision bf16): float32 parameters, logits and gradients; the same function as
/// float32 up to bfloat16 rounding.</summary>
public sealed class PrecisionTests
{
    [Theory]
    [InlineData("nas-bench-201", "rf-pcdarts", true)]
    [InlineData("nas-bench-201", "rf-pcdarts", false)]
    [InlineData("nas-bench-201", "darts", true)]
    [InlineData("darts", "pc-darts", true)]
    [InlineData("darts", "pc-darts", false)]
    [InlineData("darts", "rf-darts", true)]
    [InlineData("darts", "rf-pcdarts", true)]
    public void Bf16_supernets_keep_float32_parameters_and_logits_and_agree_with_float32(string space, string methodName, bool fused)
    {
        var method = SearchMethod.Parse(methodName);
        using var scope = torch.NewDisposeScope();
        bool pc = method.PartialChannels;
        var cfg = new SupernetConfig(SearchSpaces.Get(space), 10, Channels: 8, Layers: space == "darts" ? 3 : 1,
            PartialK: pc ? 2 : 1, EdgeNormalization: pc, Affine: method.RandomFeatures, Fused: fused);
        torch.manual_seed(7);
        var a = (X: torch.randn(32, 3, 16, 16), Y: torch.randint(0, 10, [32]));
        var b = (X: torch.randn(32, 3, 16, 16), Y: torch.randint(0, 10, [32]));
        Supernet Net(Precision p)
        {
            torch.manual_seed(3);
            var net = SupernetFactory.Create(cfg with { Precision = p });
            if (method.RandomFeatures) RandomFeatures.Apply(net, FrozenInit.KaimingNormal, trainClassifier: true);
            using (torch.no_grad()) foreach (var q in net.ArchParameters) q.copy_(torch.randn_like(q));
            net.train();
            return net;
        }
        (Tensor Logits, Tensor[] Grads) Pass(Supernet net, (Tensor X, Tensor Y) batch)
        {
            foreach (var q in net.parameters()) { using var g = q.grad; g?.zero_(); }
            var logits = net.call(batch.X);
            nn.functional.cross_entropy(logits, batch.Y).backward();
            return (logits, [.. net.parameters().Where(q => q.requires_grad).Select(q => q.grad!.clone())]);
        }
        using var f32 = Net(Precision.Float32);
        using var b16 = Net(Precision.BFloat16);
        var (logitsA, gradsA) = Pass(f32, a);
        var (_, gradsB) = Pass(f32, b);
        var (logits16, grads16) = Pass(b16, a);

        Assert.Equal(ScalarType.Float32, logits16.dtype);
        Assert.All(b16.parameters(), q => Assert.Equal(ScalarType.Float32, q.dtype));
        Assert.All(b16.buffers(), q => Assert.True(q.dtype is ScalarType.Float32 or ScalarType.Int64, $"buffer of type {q.dtype}"));
        Assert.All(grads16, g => Assert.Equal(ScalarType.Float32, g.dtype));
        double scale = logitsA.abs().max().item<float>();
        double diff = (logits16 - logitsA).abs().max().item<float>();
        Assert.True(diff < 0.05 * scale + 1e-3, $"logits differ by {diff} (largest {scale})");
        Assert.NotEqual(0, diff); // it did run in bfloat16

        // bfloat16's rounding moves the gradients by less than another batch of the same size does (minibatch noise),
        // the architecture parameters' and the weights' each. Measured (architecture): 0.08-0.12 of the batch-to-batch
        // change on NAS-Bench-201, 0.15 for PC-DARTS in the DARTS space, 0.6 for RF-DARTS there (docs/search.md).
        // Wrong kernels (the oneDNN bfloat16 input-gradient bug) move them by far more.
        double bound = cfg.Space.Kind == SpaceKind.Nb201 ? 0.25 : 1.0;
        int nArch = b16.ArchParameters.Count;
        var archIndex = b16.parameters().Where(q => q.requires_grad).Select((q, i) => (q, i))
            .Where(t => b16.ArchParameters.Any(x => ReferenceEquals(x, t.q))).Select(t => t.i).ToHashSet();
        Assert.Equal(nArch, archIndex.Count);
        foreach (var (what, group) in new[] { ("architecture", archIndex), ("weight", Enumerable.Range(0, gradsA.Length).Where(i => !archIndex.Contains(i)).ToHashSet()) })
        {
            Tensor Flat(Tensor[] g) => torch.cat([.. group.Select(i => g[i].flatten())]);
            double rounding = (Flat(grads16) - Flat(gradsA)).norm().item<float>();
            double batchNoise = (Flat(gradsB) - Flat(gradsA)).norm().item<float>();
            Assert.True(rounding < bound * batchNoise, $"bf16 moves the {what} gradient by {rounding / batchNoise:0.000} of another batch's change");
        }
    }

    [Theory]
    [InlineData(24, 3)] // the zero-padded path (output channels not a multiple of 16)
    [InlineData(16, 3)]
    [InlineData(8, 1)]
    public void A_bf16_input_casts_float32_filters_and_passes_their_gradient_back(long cout, long kernel)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var x = torch.randn(2, 4, 8, 8);
        var w = torch.randn(cout, 4, kernel, kernel).requires_grad_(true);
        var b = torch.randn(cout).requires_grad_(true);
        var y32 = Conv.Apply(x, w, b, padding: kernel / 2);
        var y16 = Conv.Apply(x.to(ScalarType.BFloat16), w, b, padding: kernel / 2);
        Assert.Equal(ScalarType.BFloat16, y16.dtype);
        Assert.True(y16.to(ScalarType.Float32).allclose(y32, rtol: 0.05, atol: 0.1));
        y16.to(ScalarType.Float32).sum().backward();
        Assert.Equal(ScalarType.Float32, w.grad!.dtype);
        Assert.Equal(ScalarType.Float32, b.grad!.dtype);
        Assert.Equal(2 * 8 * 8, b.grad.mean().item<float>(), 0.5);
    }

    [Fact]
    public void Every_op_runs_in_bf16_including_s4_noise()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var space in new[] { "s4", "s2" })
        {
            torch.manual_seed(1);
            using var net = SupernetFactory.Create(new SupernetConfig(SearchSpaces.Get(space), 10, Channels: 8, Layers: 3, Precision: Precision.BFloat16));
            net.train();
            var logits = net.call(torch.randn(4, 3, 16, 16));
            logits.sum().backward();
            Assert.Equal(ScalarType.Float32, logits.dtype);
            Assert.True(logits.isfinite().all().item<bool>(), $"{space}: non-finite logits");
            Assert.All(net.ArchParameters, a => Assert.True(a.grad!.isfinite().all().item<bool>()));
        }
    }

    [Fact]
    public void Bf16_is_refused_with_second_order_steps_and_recorded_only_when_chosen()
    {
        var o = SearchPresets.Create("cpu", "nas-bench-201", SearchMethod.RfDarts) with { Precision = Precision.BFloat16, Unrolled = true };
        var e = Assert.Throws<InputException>(o.Validate);
        Assert.Contains("--precision bf16", e.Message);
        (o with { Unrolled = false }).Validate();

        // float32 is left out of options.json: runs written before the option existed still resume.
        Assert.DoesNotContain("Precision", SearchRunner.OptionsJson(o with { Precision = Precision.Float32 }));
        Assert.Contains("\"Precision\": \"bf16\"", SearchRunner.OptionsJson(o));
        Assert.Equal(Precision.BFloat16, Precisions.Parse("bf16"));
        Assert.Contains("--precision 'fp16'", Assert.Throws<InputException>(() => Precisions.Parse("fp16")).Message);
    }
}
