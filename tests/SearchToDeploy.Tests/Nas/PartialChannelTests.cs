using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Supernets;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

public sealed class PartialChannelTests
{
    [Fact]
    public void Shuffle_is_a_permutation_of_channels_interleaving_the_groups()
    {
        using var scope = torch.NewDisposeScope();
        var channelIds = torch.arange(16, dtype: ScalarType.Float32).view(1, 16, 1, 1).expand(2, 16, 3, 3).contiguous();
        var shuffled = PartialChannels.Shuffle(channelIds, 4);
        var order = shuffled[0, .., 0, 0].data<float>().ToArray().Select(v => (int)v).ToArray();
        Assert.Equal(Enumerable.Range(0, 16), order.Order());
        // PC-DARTS channel_shuffle: group g, channel a goes to a * K + g.
        Assert.Equal([0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15], order);
    }

    [Fact]
    public void Bypassed_channels_pass_unchanged_up_to_the_permutation_on_normal_edges()
    {
        using var scope = torch.NewDisposeScope();
        var edge = new MixedOp(OpRegistry.Darts, 16, 1, SpaceKind.DartsCell, new OpConfig(false), partialK: 4);
        var x = torch.randn(2, 16, 8, 8);
        var w = torch.softmax(torch.randn(8), 0);
        var ops = edge.Forward(x, w);
        var bypass = edge.Bypass(x);
        Assert.Equal([2L, 4, 8, 8], ops.shape);
        Assert.True((bypass == x[.., 4..]).all().item<bool>(), "bypass must be the last 3/4 of the channels, untouched");
        var merged = PartialChannels.Merge(ops, bypass, 4);
        var unshuffled = merged.view(2, 4, 4, 8, 8).transpose(1, 2).reshape(2, 16, 8, 8);
        Assert.True((unshuffled[.., 4..] == x[.., 4..]).all().item<bool>());
        Assert.True((unshuffled[.., ..4] == ops).all().item<bool>());
    }

    [Fact]
    public void Reduction_edges_max_pool_the_bypass()
    {
        using var scope = torch.NewDisposeScope();
        var edge = new MixedOp(OpRegistry.Darts, 8, 2, SpaceKind.DartsCell, new OpConfig(false), partialK: 4);
        var x = torch.randn(2, 8, 8, 8);
        var expected = nn.functional.max_pool2d(x[.., 2..], 2, 2);
        Assert.True((edge.Bypass(x) == expected).all().item<bool>());
        Assert.Equal([2L, 2, 4, 4], edge.Forward(x, torch.softmax(torch.randn(8), 0)).shape);
    }
}
