using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Nas.Networks;

/// <summary>The shape of an evaluation network: kind, width, depth (cells; per stage for NAS-Bench-201), classes.</summary>
public sealed record NetworkConfig(NetworkKind Kind, long Channels, int Layers, long Classes, bool Auxiliary)
{
    /// <summary>The published sizes: CIFAR C=36, 20 cells; ImageNet (mobile) C=48, 14 cells; NAS-Bench-201 C=16, 5 cells per stage.</summary>
    public static NetworkConfig Paper(NetworkKind kind, long classes) => kind switch
    {
        NetworkKind.Cifar => new(kind, 36, 20, classes, true),
        NetworkKind.ImageNet or NetworkKind.ImageNet64 => new(kind, 48, 14, classes, true),
        _ => new(kind, 16, 5, classes, false),
    };

    /// <summary>
    /// The network kind that fits an architecture and a dataset: NAS-Bench-201 cells get their own network; DARTS-style
    /// cells the CIFAR network on 32x32 datasets, else the ImageNet network with the stem for the image size trained
    /// (the 64-px stem up to 112 px, the mobile stem from there).
    /// </summary>
    public static NetworkKind DefaultKind(Architecture arch, bool smallImages, int imageSize = 224) => arch.Kind == SpaceKind.Nb201
        ? (smallImages || imageSize > 112 ? NetworkKind.Nb201 : NetworkKind.Nb201x64)
        : smallImages ? NetworkKind.Cifar : imageSize <= 112 ? NetworkKind.ImageNet64 : NetworkKind.ImageNet;

    /// <summary>The input size a network kind was designed for: 224 for the mobile ImageNet network, 64 for its 64-px stem, else 32.</summary>
    public static int DesignSize(NetworkKind kind) => kind switch { NetworkKind.ImageNet => 224, NetworkKind.ImageNet64 or NetworkKind.Nb201x64 => 64, _ => 32 };

    /// <summary>The sides of the square maps the cells of each stage see for an input of <paramref name="inputSize"/> (stride-2 convolutions with padding 1 round up).</summary>
    public static int[] StageMaps(NetworkKind kind, int inputSize)
    {
        int stemStrides = kind switch { NetworkKind.ImageNet => 3, NetworkKind.ImageNet64 or NetworkKind.Nb201x64 => 1, _ => 0 };
        int s = inputSize;
        for (int i = 0; i < stemStrides; i++) s = (s + 1) / 2;
        return [s, (s + 1) / 2, (s + 3) / 4];
    }
}
