using SearchToDeploy.Nas.Architectures;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Networks;

/// <summary>
/// A network built from a searched architecture, trained from scratch. <see cref="forward"/> returns the logits; in
/// training with an auxiliary head, <see cref="ForwardWithAux"/> also returns the auxiliary logits (none in
/// evaluation). Everything except the auxiliary head is what gets deployed.
/// </summary>
public abstract class RetrainNetwork(string name) : Module<Tensor, Tensor>(name)
{
    /// <summary>The name prefix of the auxiliary head's parameters (excluded from the published parameter counts).</summary>
    public const string AuxiliaryPrefix = "auxiliary";

    public abstract NetworkKind Kind { get; }
    public abstract Architecture Architecture { get; }
    public abstract long Classes { get; }
    /// <summary>The input resolution the network was designed for (32 for CIFAR and NAS-Bench-201, 224 for ImageNet).</summary>
    public abstract int InputSize { get; }
    public abstract bool HasAuxiliary { get; }

    /// <summary>Drop-path probability of the non-identity ops (training only).</summary>
    public double DropPathProb { get; set; }

    public abstract (Tensor Logits, Tensor? Auxiliary) ForwardWithAux(Tensor x);

    public override Tensor forward(Tensor x)
    {
        var (logits, aux) = ForwardWithAux(x);
        aux?.Dispose();
        return logits;
    }

    public static string KindName(NetworkKind kind) => kind switch
    {
        NetworkKind.Cifar => "cifar",
        NetworkKind.ImageNet => "imagenet",
        NetworkKind.ImageNet64 => "imagenet-64",
        NetworkKind.Nb201x64 => "nb201-64",
        _ => "nb201",
    };

    /// <summary>True for the ImageNet networks (either stem), which take ImageNet-style images of any size.</summary>
    public static bool IsImageNet(NetworkKind kind) => kind is NetworkKind.ImageNet or NetworkKind.ImageNet64;

    /// <summary>True for the NAS-Bench-201 networks (either stem).</summary>
    public static bool IsNb201(NetworkKind kind) => kind is NetworkKind.Nb201 or NetworkKind.Nb201x64;

    public static NetworkKind ParseKind(string name) => name.ToLowerInvariant() switch
    {
        "cifar" => NetworkKind.Cifar,
        "imagenet" or "imagenet-224" or "mobile" => NetworkKind.ImageNet,
        "imagenet-64" or "imagenet64" => NetworkKind.ImageNet64,
        "nb201" or "nas-bench-201" => NetworkKind.Nb201,
        "nb201-64" => NetworkKind.Nb201x64,
        _ => throw new InputException($"--network '{name}': expected cifar, imagenet (the mobile setting, 224 px), imagenet-64 (its stem for 64-px inputs), nb201 or nb201-64 (its stem for 64-px inputs)"),
    };
}
