using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

/// <summary>Evaluation networks built from genotypes: shapes, auxiliary head, sizes against hand-computed counts.</summary>
public sealed class NetworkTests
{
    internal const string DartsV2 = KnownGenotypes.DartsV2;
    internal const string Nb201Best = KnownGenotypes.Nb201Best;

    private static RetrainNetwork Build(string arch, NetworkKind kind, long c, int layers, long classes, bool aux)
    {
        torch.manual_seed(0);
        return NetworkFactory.Create(Architecture.ParseText(arch), new NetworkConfig(kind, c, layers, classes, aux));
    }

    [Theory]
    [InlineData(NetworkKind.Cifar, 32, 6, 5)]
    [InlineData(NetworkKind.ImageNet, 224, 8, 14)]
    [InlineData(NetworkKind.ImageNet64, 64, 8, 8)]
    [InlineData(NetworkKind.ImageNet, 64, 8, 8)] // the mobile stems at 64 px: a 2x2 map at the auxiliary head, pooled adaptively
    [InlineData(NetworkKind.ImageNet64, 96, 8, 8)] // a 12x12 map at the auxiliary head, where the published pool leaves 3x3
    public void Darts_networks_give_logits_and_an_auxiliary_output_only_in_training(NetworkKind kind, int size, int c, int layers)
    {
        using var net = Build(DartsV2, kind, c, layers, 7, aux: true);
        using var x = torch.randn(2, 3, size, size);
        net.train();
        var (logits, aux) = net.ForwardWithAux(x);
        Assert.Equal([2L, 7], logits.shape);
        Assert.NotNull(aux);
        Assert.Equal([2L, 7], aux!.shape);
        net.eval();
        using var _ = torch.no_grad();
        var (l2, a2) = net.ForwardWithAux(x);
        Assert.Equal([2L, 7], l2.shape);
        Assert.Null(a2);
    }

    [Fact]
    public void Nb201_network_gives_logits()
    {
        using var net = Build(Nb201Best, NetworkKind.Nb201, 8, 1, 10, aux: false);
        using var x = torch.randn(3, 3, 32, 32);
        using var y = net.call(x);
        Assert.Equal([3L, 10], y.shape);
        using var big = Build(KnownGenotypes.Nb201ResNet, NetworkKind.Nb201x64, 8, 1, 10, aux: false);
        using var x64 = torch.randn(3, 3, 64, 64);
        using var y64 = big.call(x64);
        Assert.Equal([3L, 10], y64.shape);
        // The stride-2 stem leaves the cells (and the stem's output) the CIFAR-sized network's 32/16/8 maps: the same multiply-adds.
        using var small = Build(KnownGenotypes.Nb201ResNet, NetworkKind.Nb201, 8, 1, 10, aux: false);
        Assert.Equal(ModelSize.Measure(small).MultiplyAdds, ModelSize.Measure(big).MultiplyAdds);
    }

    [Theory]
    [InlineData(NetworkKind.ImageNet, 224, new[] { 28, 14, 7 })]
    [InlineData(NetworkKind.ImageNet, 64, new[] { 8, 4, 2 })]
    [InlineData(NetworkKind.ImageNet64, 64, new[] { 32, 16, 8 })]
    [InlineData(NetworkKind.Cifar, 32, new[] { 32, 16, 8 })]
    public void The_stem_decides_the_maps_the_cells_see(NetworkKind kind, int size, int[] maps) =>
        Assert.Equal(maps, NetworkConfig.StageMaps(kind, size));

    [Fact]
    public void The_auxiliary_head_refuses_a_map_under_2x2_with_what_to_do()
    {
        using var net = Build(DartsV2, NetworkKind.ImageNet, 8, 8, 7, aux: true);
        net.train();
        using var x = torch.randn(2, 3, 32, 32);
        var e = Assert.Throws<InputException>(() => net.ForwardWithAux(x));
        Assert.Contains("needs a map of at least 2x2 and gets 1x1", e.Message);
        Assert.Contains("imagenet-64", e.Message);
    }

    [Fact]
    public void Published_sizes_of_darts_v2()
    {
        using var cifar = Build(DartsV2, NetworkKind.Cifar, 36, 20, 10, aux: true);
        var s = ModelSize.Measure(cifar);
        Assert.InRange(s.Parameters, 3_300_000, 3_400_000); // DARTS: 3.3M
        using var imagenet = Build(DartsV2, NetworkKind.ImageNet, 48, 14, 1000, aux: true);
        var i = ModelSize.Measure(imagenet);
        Assert.InRange(i.Parameters, 4_650_000, 4_750_000); // DARTS: 4.7M
        Assert.InRange(i.MultiplyAdds, 500_000_000, 600_000_000); // mobile setting
    }

    /// <summary>
    /// A one-cell-type genotype (every edge skip_connect except one avg pool) on a 3-cell CIFAR network, C=2, 3 classes:
    /// parameters and multiply-adds counted by hand from the layer shapes.
    /// </summary>
    [Fact]
    public void Sizes_match_a_hand_count()
    {
        string g = "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1), ('skip_connect', 0), ('skip_connect', 1), ('skip_connect', 0), ('skip_connect', 1), " +
                   "('skip_connect', 0), ('avg_pool_3x3', 1)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), " +
                   "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";
        using var net = Build(g, NetworkKind.Cifar, 2, 3, 3, aux: false);
        // stem: conv 3->6 3x3 (162) + BN 6 (12). Cell 0 (normal, C=2, inputs 6/6): two ReLUConvBN 1x1 6->2 = 2*(12+4).
        // Cell 1 (reduction, C=4, inputs 6/8): 6->4 (24+8), 8->4 (32+8); pools have no parameters.
        // Cell 2 (reduction, C=8, reduction_prev: FactorizedReduce 8->8 = 2*(8*4) + 16, preprocess1 16->8 = 128+16).
        // Classifier 32->3: 96+3.
        long parameters = 162 + 12 + 2 * 16 + (32 + 40) + (64 + 16 + 144) + 99;
        // MACs at 32x32: stem 6*27*1024; cell 0: 2 * (2*6*1024); cell 1: (4*6 + 4*8)*1024 at 32x32 (preprocessing is at the input size);
        // cell 2: FactorizedReduce of cell 0's 32x32 output to 16x16, 2 * (4*8) * 256, + preprocess1 at 16x16, 8*16*256; classifier 96.
        long macs = 6 * 27 * 1024 + 2 * 2 * 6 * 1024 + (24 + 32) * 1024 + 2 * 32 * 256 + 128 * 256 + 96;
        var s = ModelSize.Measure(net);
        Assert.Equal(parameters, s.Parameters);
        Assert.Equal(macs, s.MultiplyAdds);
    }

    [Fact]
    public void Wrong_network_for_an_architecture_is_bad_input()
    {
        Assert.Throws<InputException>(() => Build(Nb201Best, NetworkKind.Cifar, 8, 3, 10, false));
        Assert.Throws<InputException>(() => Build(DartsV2, NetworkKind.Nb201, 8, 1, 10, false));
    }

    [Fact]
    public void Drop_path_is_identity_in_evaluation_and_scales_kept_paths_in_training()
    {
        using var x = torch.ones(4000, 1, 1, 1);
        torch.manual_seed(1);
        using var y = SearchToDeploy.Nas.Ops.DropPath.Apply(x, 0.25);
        using var kept = y.ne(0);
        var values = y.masked_select(kept);
        Assert.All(values.data<float>().ToArray(), v => Assert.Equal(1 / 0.75f, v, 5));
        Assert.InRange(kept.sum().item<long>(), 2800, 3200);

        using var net = Build(DartsV2, NetworkKind.Cifar, 4, 3, 10, aux: false);
        net.DropPathProb = 0.5;
        net.eval();
        using var input = torch.randn(2, 3, 32, 32);
        using var a = net.call(input);
        using var b = net.call(input);
        Assert.True(a.bytes.SequenceEqual(b.bytes));
    }
}
