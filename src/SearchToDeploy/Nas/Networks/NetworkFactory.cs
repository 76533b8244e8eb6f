using SearchToDeploy.Nas.Genotypes;
using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Nas.Networks;

/// <summary>The shape of an evaluation network: kind, width, depth (cells; per stage for NAS-Bench-201), classes.</summary>
public sealed record NetworkConfig(NetworkKind Kind, long Channels, int Layers, long Classes, bool Auxiliary)
{
    /// <summary>The published sizes: CIFAR C=36, 20 cells; ImageNet (mobile) C=48, 14 cells; NAS-Bench-201 C=16, 5 cells per stage.</summary>
    public static NetworkConfig Paper(NetworkKind kind, long classes) => kind switch
    {
        NetworkKind.Cifar => new(kind, 36, 20, classes, true),
        NetworkKind.ImageNet => new(kind, 48, 14, classes, true),
        _ => new(kind, 16, 5, classes, false),
    };

    /// <summary>The network kind that fits an architecture and a dataset: NAS-Bench-201 cells get their own network.</summary>
    public static NetworkKind DefaultKind(Architecture arch, bool smallImages) =>
        arch.Kind == SpaceKind.Nb201 ? NetworkKind.Nb201 : smallImages ? NetworkKind.Cifar : NetworkKind.ImageNet;
}

public static class NetworkFactory
{
    public static EvalNetwork Create(Architecture arch, NetworkConfig cfg)
    {
        if (arch.Kind == SpaceKind.Nb201)
        {
            if (cfg.Kind != NetworkKind.Nb201)
                throw new InputException($"a NAS-Bench-201 architecture builds the nb201 network, not --network {EvalNetwork.KindName(cfg.Kind)}");
            if (cfg.Auxiliary) throw new InputException("the NAS-Bench-201 network has no auxiliary head; use --aux-weight 0");
            return new Nb201Network(arch.Nb201!, cfg.Channels, cfg.Layers, cfg.Classes);
        }
        if (cfg.Kind == NetworkKind.Nb201)
            throw new InputException($"a {arch.Space} cell builds the cifar or imagenet network, not --network nb201");
        return new DartsNetwork(arch.Cell!, cfg.Kind, cfg.Channels, cfg.Layers, cfg.Classes, cfg.Auxiliary, arch.Space);
    }
}
