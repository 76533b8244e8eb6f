using SearchToDeploy.Nas.Supernets.Darts;
using SearchToDeploy.Nas.Supernets.Nb201;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets;

public static class SupernetFactory
{
    public static Supernet Create(SupernetConfig cfg) => cfg.Space.Kind == Spaces.SpaceKind.Nb201
        ? new Nb201Supernet(cfg)
        : new DartsSupernet(cfg);
}
