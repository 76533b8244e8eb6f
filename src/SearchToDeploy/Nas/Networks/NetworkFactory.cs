using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Nas.Networks;

public static class NetworkFactory
{
    public static RetrainNetwork Create(Architecture arch, NetworkConfig cfg)
    {
        if (arch.Kind == SpaceKind.Nb201)
        {
            if (!RetrainNetwork.IsNb201(cfg.Kind))
                throw new InputException($"a NAS-Bench-201 architecture builds the nb201 or nb201-64 network, not --network {RetrainNetwork.KindName(cfg.Kind)}");
            if (cfg.Auxiliary) throw new InputException("the NAS-Bench-201 network has no auxiliary head; use --aux-weight 0");
            return new Nb201Network(arch.Nb201!, cfg.Channels, cfg.Layers, cfg.Classes, cfg.Kind);
        }
        if (RetrainNetwork.IsNb201(cfg.Kind))
            throw new InputException($"a {arch.Space} cell builds the cifar or imagenet network, not --network nb201");
        return new DartsNetwork(arch.Cell!, cfg.Kind, cfg.Channels, cfg.Layers, cfg.Classes, cfg.Auxiliary, arch.Space);
    }
}
