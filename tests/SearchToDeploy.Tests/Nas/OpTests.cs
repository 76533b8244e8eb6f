using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

public sealed class OpTests
{
    public static TheoryData<string> DartsOps => new(OpRegistry.DartsNames);
    public static TheoryData<string> Nb201Ops => new(OpRegistry.Nb201);

    [Theory]
    [MemberData(nameof(DartsOps))]
    public void Darts_op_keeps_the_shape_at_stride_1_and_halves_it_at_stride_2(string name)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, 8, 16, 16);
        foreach (bool affine in new[] { false, true })
        {
            Assert.Equal([2L, 8, 16, 16], OpRegistry.CreateDarts(name, 8, 1, new OpConfig(affine)).call(x).shape);
            Assert.Equal([2L, 8, 8, 8], OpRegistry.CreateDarts(name, 8, 2, new OpConfig(affine)).call(x).shape);
        }
    }

    [Theory]
    [MemberData(nameof(Nb201Ops))]
    public void Nb201_op_keeps_the_shape_at_stride_1_and_halves_it_at_stride_2(string name)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, 8, 16, 16);
        Assert.Equal([2L, 8, 16, 16], OpRegistry.CreateNb201(name, 8, 8, 1, new OpConfig(false)).call(x).shape);
        Assert.Equal([2L, 8, 8, 8], OpRegistry.CreateNb201(name, 8, 8, 2, new OpConfig(true)).call(x).shape);
    }

    [Fact]
    public void Zero_is_zero_and_noise_ignores_its_input()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.randn(2, 4, 8, 8);
        Assert.Equal(0, OpRegistry.CreateDarts(OpRegistry.None, 4, 1, OpConfig.Eval).call(x).abs().sum().item<float>());
        var noise = OpRegistry.CreateDarts(OpRegistry.Noise, 4, 1, OpConfig.Eval);
        torch.manual_seed(5);
        var a = noise.call(x);
        torch.manual_seed(5);
        var b = noise.call(x * 100);
        Assert.Equal(a.data<float>().ToArray(), b.data<float>().ToArray());
        Assert.InRange(a.std().item<float>(), 0.8f, 1.2f);
    }

    [Theory]
    [InlineData(32, 1)]
    [InlineData(32, 2)]
    [InlineData(7, 1)]
    [InlineData(7, 2)]
    [InlineData(8, 2)]
    public void Matmul_average_pooling_equals_avg_pool2d_excluding_padding(int size, int stride)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(size * 10 + stride);
        var x = torch.randn(3, 5, size, size + 1, dtype: ScalarType.Float64);
        var expected = nn.functional.avg_pool2d(x, 3, stride, 1, ceil_mode: false, count_include_pad: false);
        var got = AvgPool.Exclusive3x3(x, stride);
        Assert.Equal(expected.shape, got.shape);
        Assert.True((expected - got).abs().max().item<double>() < 1e-12);
    }

    public static TheoryData<string, SearchMethod> SpacesAndMethods
    {
        get
        {
            var d = new TheoryData<string, SearchMethod>();
            foreach (var s in SearchSpaces.All)
                foreach (var m in SearchMethod.All)
                    d.Add(s.Name, m);
            return d;
        }
    }

    [Theory]
    [MemberData(nameof(SpacesAndMethods))]
    public void Every_supernet_gives_class_logits_and_a_valid_architecture(string space, SearchMethod method)
    {
        using var scope = torch.NewDisposeScope();
        var s = SearchSpaces.Get(space);
        bool pc = method.PartialChannels;
        var cfg = new SupernetConfig(s, 7, Channels: 8, Layers: s.Kind == SpaceKind.Nb201 ? 1 : 3,
            PartialK: pc ? 2 : 1, EdgeNormalization: pc, Affine: method.RandomFeatures);
        torch.manual_seed(1);
        using var net = SupernetFactory.Create(cfg);
        Assert.Equal([3L, 7], net.call(torch.randn(3, 3, 16, 16)).shape);
        var arch = net.Derive();
        Assert.Equal(s.Kind, arch.Kind);
        Assert.Equal(arch.Text, Nas.GenotypeRoundTripTests.Reparse(arch).Text);
    }
}
