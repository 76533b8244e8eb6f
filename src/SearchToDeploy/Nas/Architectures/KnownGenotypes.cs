namespace SearchToDeploy.Nas.Architectures;

/// <summary>Published cells, as strings in their papers' formats (for defaults, benchmarks and tests).</summary>
public static class KnownGenotypes
{
    /// <summary>DARTS (second order), the default cell of quark0/darts genotypes.py.</summary>
    public const string DartsV2 =
        "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), " +
        "('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), " +
        "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=range(2, 6))";

    /// <summary>PC-DARTS's CIFAR cell.</summary>
    public const string PcDartsCifar =
        "Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), ('dil_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), " +
        "('avg_pool_3x3', 0), ('dil_conv_3x3', 1)], normal_concat=range(2, 6), reduce=[('sep_conv_5x5', 1), ('max_pool_3x3', 0), ('sep_conv_5x5', 1), " +
        "('sep_conv_5x5', 2), ('sep_conv_3x3', 0), ('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('sep_conv_3x3', 2)], reduce_concat=range(2, 6))";

    /// <summary>NAS-Bench-201's ResNet cell (two 3x3 convolutions and a skip connection: a basic block), 93.91% CIFAR-10 test in the benchmark.</summary>
    public const string Nb201ResNet = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|none~2|";

    /// <summary>A NAS-Bench-201 cell at 94.36% CIFAR-10 test in the benchmark (RF-DARTS's published figure; the optimum is 94.37%).</summary>
    public const string Nb201Best = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";

    /// <summary>The names --genotype takes for these cells.</summary>
    public static readonly IReadOnlyList<string> Names = ["darts-v2", "pc-darts", "nb201-resnet", "nb201-best"];

    /// <summary>A published cell by its name (case and '_' / '-' ignored: DARTS_V2 is darts-v2), or null.</summary>
    public static string? ByName(string name) => name.Replace('_', '-').ToLowerInvariant() switch
    {
        "darts-v2" => DartsV2,
        "pc-darts" => PcDartsCifar,
        "nb201-resnet" => Nb201ResNet,
        "nb201-best" => Nb201Best,
        _ => null,
    };
}
