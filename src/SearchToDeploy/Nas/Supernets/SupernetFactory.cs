using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Supernets.Darts;
using SearchToDeploy.Nas.Supernets.Nb201;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>The supernet of each kind of space: where a new kind plugs its supernet in.</summary>
public static class SupernetFactory
{
    public static Supernet Create(SupernetConfig cfg) => cfg.Space.Kind == SpaceKind.Nb201
        ? new Nb201Supernet(cfg)
        : new DartsSupernet(cfg);

    /// <summary>Whether the space's supernet computes its cells fused (every NAS-Bench-201 cell; DARTS-style cells whose ops all have a fused form).</summary>
    public static bool HasFusedCells(SearchSpace space) => space.Kind == SpaceKind.Nb201 || DartsCellLayout.Supports(space);
}
