using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>
/// The one registry of candidate operations: name -> factory(C, stride, config). It serves the search supernets
/// (affine off, or on for random features) and the retraining networks (affine on).
/// </summary>
public static class OpRegistry
{
    public const string None = "none";
    public const string MaxPool3 = "max_pool_3x3";
    public const string AvgPool3 = "avg_pool_3x3";
    public const string Skip = "skip_connect";
    public const string Sep3 = "sep_conv_3x3";
    public const string Sep5 = "sep_conv_5x5";
    public const string Sep7 = "sep_conv_7x7";
    public const string Dil3 = "dil_conv_3x3";
    public const string Dil5 = "dil_conv_5x5";
    public const string Conv1 = "nor_conv_1x1";
    public const string Conv3 = "nor_conv_3x3";
    public const string Noise = "noise";

    /// <summary>DARTS's PRIMITIVES, in α column order.</summary>
    public static readonly IReadOnlyList<string> Darts = [None, MaxPool3, AvgPool3, Skip, Sep3, Sep5, Dil3, Dil5];

    /// <summary>NAS-Bench-201's ops, in α column order.</summary>
    public static readonly IReadOnlyList<string> Nb201 = [None, Skip, Conv1, Conv3, AvgPool3];

    private static readonly Dictionary<string, Func<long, long, OpConfig, Module<Tensor, Tensor>>> DartsFactories = new()
    {
        [None] = (c, s, cfg) => new Zero(s),
        [MaxPool3] = (c, s, cfg) => new Pool(max: true, s),
        [AvgPool3] = (c, s, cfg) => new Pool(max: false, s),
        [Skip] = (c, s, cfg) => s == 1 ? new Identity() : new FactorizedReduce(c, c, cfg),
        [Sep3] = (c, s, cfg) => new SepConv(c, c, 3, s, 1, cfg),
        [Sep5] = (c, s, cfg) => new SepConv(c, c, 5, s, 2, cfg),
        [Sep7] = (c, s, cfg) => new SepConv(c, c, 7, s, 3, cfg),
        [Dil3] = (c, s, cfg) => new DilConv(c, c, 3, s, 2, 2, cfg),
        [Dil5] = (c, s, cfg) => new DilConv(c, c, 5, s, 4, 2, cfg),
        [Noise] = (c, s, cfg) => new NoiseOp(s),
    };

    public static IReadOnlyCollection<string> DartsNames => DartsFactories.Keys;
    public static bool IsDartsOp(string name) => DartsFactories.ContainsKey(name);
    public static bool IsNb201Op(string name) => Nb201.Contains(name);
    public static bool IsPool(string name) => name is MaxPool3 or AvgPool3;

    /// <summary>A DARTS-space op (DARTS, S1-S4) on C channels.</summary>
    public static Module<Tensor, Tensor> CreateDarts(string name, long channels, long stride, OpConfig cfg) =>
        DartsFactories.TryGetValue(name, out var f)
            ? f(channels, stride, cfg)
            : throw new ArgumentException($"unknown DARTS-space op '{name}'; expected one of {string.Join(", ", DartsFactories.Keys)}");

    /// <summary>A NAS-Bench-201 op (xautodl semantics: conv bias exactly when BN is not affine, no BN after pooling).</summary>
    public static Module<Tensor, Tensor> CreateNb201(string name, long cin, long cout, long stride, OpConfig cfg) => name switch
    {
        None => new Zero(stride),
        Skip => stride == 1 && cin == cout ? new Identity() : new FactorizedReduce(cin, cout, cfg),
        Conv1 => new ReLUConvBN(cin, cout, 1, stride, 0, cfg, bias: !cfg.Affine),
        Conv3 => new ReLUConvBN(cin, cout, 3, stride, 1, cfg, bias: !cfg.Affine),
        AvgPool3 when cin == cout => new Pool(max: false, stride),
        _ => throw new ArgumentException($"unknown NAS-Bench-201 op '{name}' (or pooling with a channel change); expected one of {string.Join(", ", Nb201)}"),
    };
}
