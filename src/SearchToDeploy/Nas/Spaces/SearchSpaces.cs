using SearchToDeploy.Nas.Ops;
using static SearchToDeploy.Nas.Ops.OpRegistry;

namespace SearchToDeploy.Nas.Spaces;

/// <summary>
/// The search spaces: DARTS (8 ops on all 14 edges), RobustDARTS S1-S4 (automl/RobustDARTS src/spaces.py; per-edge
/// candidates) and NAS-Bench-201 (5 ops on 6 edges).
/// </summary>
public static class SearchSpaces
{
    private static IReadOnlyList<IReadOnlyList<string>> Same(int edges, IReadOnlyList<string> ops) =>
        [.. Enumerable.Range(0, edges).Select(_ => ops)];

    public static readonly SearchSpace Darts = new("darts", SpaceKind.DartsCell, Same(14, OpRegistry.Darts), Same(14, OpRegistry.Darts),
        "DARTS: none, max/avg pool, skip, sep conv 3x3/5x5, dil conv 3x3/5x5 on every edge");

    /// <summary>S1: the two strongest ops per edge of a DARTS search (RobustDARTS Table/spaces.py).</summary>
    public static readonly SearchSpace S1 = new("s1", SpaceKind.DartsCell,
        [
            [Skip, Dil3], [Skip, Dil5], [Skip, Dil5], [Skip, Sep3], [Skip, Dil3], [MaxPool3, Skip], [Skip, Sep3],
            [Skip, Sep3], [Skip, Dil3], [Skip, Sep3], [MaxPool3, Skip], [Skip, Dil3], [Dil3, Dil5], [Dil3, Dil5],
        ],
        [
            [MaxPool3, AvgPool3], [MaxPool3, Dil3], [MaxPool3, AvgPool3], [MaxPool3, AvgPool3], [Skip, Dil5],
            [MaxPool3, AvgPool3], [MaxPool3, Sep3], [Skip, Dil3], [Skip, Dil5], [MaxPool3, AvgPool3],
            [MaxPool3, AvgPool3], [Skip, Dil5], [Skip, Dil5], [Skip, Dil5],
        ],
        "RobustDARTS S1: two candidates per edge, different on each edge");

    public static readonly SearchSpace S2 = new("s2", SpaceKind.DartsCell, Same(14, [Skip, Sep3]), Same(14, [Skip, Sep3]),
        "RobustDARTS S2: skip_connect, sep_conv_3x3");

    public static readonly SearchSpace S3 = new("s3", SpaceKind.DartsCell, Same(14, [None, Skip, Sep3]), Same(14, [None, Skip, Sep3]),
        "RobustDARTS S3: none, skip_connect, sep_conv_3x3");

    public static readonly SearchSpace S4 = new("s4", SpaceKind.DartsCell, Same(14, [OpRegistry.Noise, Sep3]), Same(14, [OpRegistry.Noise, Sep3]),
        "RobustDARTS S4: noise (N(0,1), ignores its input), sep_conv_3x3");

    public static readonly SearchSpace Nb201 = new("nas-bench-201", SpaceKind.Nb201, Same(6, OpRegistry.Nb201), Same(6, OpRegistry.Nb201),
        "NAS-Bench-201: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3 on 6 edges");

    public static readonly IReadOnlyList<SearchSpace> All = [Nb201, Darts, S1, S2, S3, S4];

    static SearchSpaces()
    {
        foreach (var s in All) s.Validate();
    }

    public static SearchSpace Get(string name) =>
        TryGet(name) ?? throw new InputException($"--space '{name}': unknown search space; expected one of {string.Join(", ", All.Select(s => s.Name))}");

    /// <summary>The space of that name (nb201 is NAS-Bench-201's alias), or null.</summary>
    public static SearchSpace? TryGet(string name) =>
        All.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase) || (name.Equals("nb201", StringComparison.OrdinalIgnoreCase) && s == Nb201));
}
