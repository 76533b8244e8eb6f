using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Runs.Search;
using TorchSharp;

namespace SearchToDeploy.Tests.Nas;

/// <summary>
/// The random-feature presets train BN affine parameters without weight decay. The fused cells hold stacked BN affine
/// parameters outside BatchNorm2d modules; the optimiser must find those too, so fused and reference supernets train alike.
/// </summary>
public sealed class BatchNormWeightDecayTests
{
    [Theory]
    [InlineData("nas-bench-201")]
    [InlineData("darts")]
    public void Fused_and_reference_cells_give_the_same_parameters_the_BN_weight_decay(string space)
    {
        var o = SearchRunTests.Tiny(space, SearchMethod.RfPcDarts) with { WeightDecay = 5e-4, BnWeightDecay = 0 };
        long Decayed(bool fused, double decay)
        {
            torch.manual_seed(0);
            using var session = SearchSession.Create(o, o.SupernetConfig(10) with { Fused = fused }, new Compute(torch.CPU, 1));
            return session.Sgd.Groups.Where(g => g.WeightDecay == decay).SelectMany(g => g.Parameters).Sum(p => p.numel());
        }
        long fusedBn = Decayed(fused: true, 0), referenceBn = Decayed(fused: false, 0);
        Assert.True(referenceBn > 0, "the reference supernet has no BN affine parameters");
        Assert.Equal(referenceBn, fusedBn);
        Assert.Equal(Decayed(fused: false, 5e-4), Decayed(fused: true, 5e-4));
    }

    [Fact]
    public void Sgd_finds_a_parameters_weight_decay_by_identity_not_by_equal_values()
    {
        using var a = new TorchSharp.Modules.Parameter(torch.ones(3));
        using var b = new TorchSharp.Modules.Parameter(torch.ones(3));
        var sgd = new SearchToDeploy.Core.Optim.Sgd([new([a], 0.1), new([b], 0.0)], 0.9);
        Assert.Equal(0.1, sgd.WeightDecayOf(a));
        Assert.Equal(0.0, sgd.WeightDecayOf(b)); // equal values, another group
    }
}
