using SearchToDeploy.Core.Optim;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Runs.Search;
using TorchSharp;
using ParamGroup = SearchToDeploy.Core.Optim.ParamGroup;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

public sealed class RandomFeatureTests
{
    [Theory]
    [InlineData("nas-bench-201", "rf-pcdarts")]
    [InlineData("darts", "rf-darts")]
    public void Training_steps_leave_convolutions_bit_identical_and_move_batch_norm(string space, string methodName)
    {
        var method = SearchMethod.Parse(methodName);
        using var scope = torch.NewDisposeScope();
        var o = SearchPresets.Create("smoke", space, method) with { Channels = 8, Layers = space == "darts" ? 3 : 1, PartialK = 2 };
        torch.manual_seed(4);
        using var net = SupernetFactory.Create(o.SupernetConfig(10));
        RandomFeatures.Apply(net, FrozenInit.KaimingNormal, trainClassifier: false);
        var before = net.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var weights = net.WeightParameters;
        var sgd = new Sgd([new ParamGroup(weights, 0)], 0.9);
        var architect = new Architect(net, o.Architecture with { LearningRate = 0.01 });
        for (int step = 0; step < 3; step++)
        {
            using var s = torch.NewDisposeScope();
            var x = torch.randn(8, 3, 16, 16);
            var y = torch.randint(0, 10, [8]);
            architect.Step(x, y, x, y, 0.1, sgd, unrolled: false);
            Gradients.Zero(weights);
            torch.autograd.backward([nn.functional.cross_entropy(net.call(x), y)], inputs: [.. weights]);
            sgd.Step(0.1);
        }

        int convs = 0, bns = 0;
        foreach (var (name, p) in net.named_parameters())
        {
            bool changed = !(p.detach() == before[name]).all().item<bool>();
            bool isArch = net.ArchParameters.Any(a => ReferenceEquals(a, p));
            if (isArch) { Assert.True(changed, $"{name} (architecture) did not train"); continue; }
            if (p.dim() == 4 || name.StartsWith("classifier", StringComparison.Ordinal))
            {
                convs++;
                Assert.False(p.requires_grad, $"{name} should be frozen");
                Assert.Null(p.grad);
                Assert.False(changed, $"{name} is a random feature but changed");
            }
            else
            {
                bns++;
                Assert.True(p.requires_grad, $"{name} (BN affine) should train");
            }
        }
        Assert.True(convs > 10 && bns > 10, $"{convs} frozen, {bns} trainable");
        // BN affine parameters as a whole moved.
        Assert.Contains(net.named_parameters(), p => p.parameter.dim() == 1 && p.parameter.requires_grad
            && !(p.parameter.detach() == before[p.name]).all().item<bool>());
    }

    /// <summary>
    /// Search and training build and initialise networks on the CPU and then move them (--device). Moving replaces every
    /// Parameter object; a dtype move takes the same path as a device move, so it is checked here where no GPU is:
    /// the frozen/trainable split survives, and a forward pass creates its tensors like its input's.
    /// </summary>
    [Theory]
    [InlineData("nas-bench-201", "rf-pcdarts")]
    [InlineData("darts", "rf-pcdarts")]
    [InlineData("darts", "rf-darts")]
    public void A_moved_supernet_keeps_its_random_features_frozen_and_runs_where_it_was_moved(string space, string methodName)
    {
        var method = SearchMethod.Parse(methodName);
        using var scope = torch.NewDisposeScope();
        var o = SearchPresets.Create("smoke", space, method) with { Channels = 8, Layers = space == "darts" ? 3 : 1 };
        torch.manual_seed(5);
        using var net = SupernetFactory.Create(o.SupernetConfig(10));
        RandomFeatures.Apply(net, FrozenInit.KaimingNormal, trainClassifier: true);
        var flags = net.named_parameters().ToDictionary(p => p.name, p => p.parameter.requires_grad);
        var weights = net.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

        net.to(ScalarType.Float64);

        Assert.Equal(flags.Count, net.named_parameters().Count());
        foreach (var (name, p) in net.named_parameters())
        {
            Assert.Equal(ScalarType.Float64, p.dtype);
            Assert.True(flags[name] == p.requires_grad, $"{name}: requires_grad {p.requires_grad} after the move, {flags[name]} before");
            Assert.True(torch.allclose(p.detach(), weights[name].to(ScalarType.Float64)), $"{name} changed in the move");
        }
        Assert.All(net.buffers(), b => Assert.True(b.dtype is ScalarType.Float64 or ScalarType.Int64, $"a buffer stayed {b.dtype}"));
        Assert.Equal(net.ArchParameters.Count, net.parameters().Count(p => net.ArchParameters.Any(a => ReferenceEquals(a, p))));
        net.train();
        var logits = net.call(torch.randn([4, 3, 16, 16], ScalarType.Float64));
        Assert.Equal(ScalarType.Float64, logits.dtype);
        torch.autograd.backward([nn.functional.cross_entropy(logits, torch.randint(0, 10, [4]))], inputs: [.. net.WeightParameters, .. net.ArchParameters]);
        Assert.All(net.ArchParameters, a => Assert.NotNull(a.grad));
    }

    [Fact]
    public void Random_features_are_seeded_and_the_init_option_changes_them()
    {
        Tensor First(FrozenInit init, long seed)
        {
            torch.manual_seed(seed);
            var net = SupernetFactory.Create(new SupernetConfig(SearchSpaces.Nb201, 10, Channels: 8, Layers: 1, Affine: true));
            RandomFeatures.Apply(net, init, false);
            return net.named_parameters().First(p => p.parameter.dim() == 4).parameter.detach().clone();
        }
        Assert.True((First(FrozenInit.Default, 1) == First(FrozenInit.Default, 1)).all().item<bool>());
        Assert.False((First(FrozenInit.Default, 1) == First(FrozenInit.Default, 2)).all().item<bool>());
        var normal = First(FrozenInit.KaimingNormal, 1);
        // Kaiming normal with fan-in 27 (3x3x3 stem) has std sqrt(2/27) ~ 0.27; the default uniform bound is 1/sqrt(27) ~ 0.19.
        Assert.InRange(normal.std().item<float>(), 0.2f, 0.34f);
        Assert.True(First(FrozenInit.Default, 1).abs().max().item<float>() <= 1 / MathF.Sqrt(27) + 1e-6);
    }
}
