using SearchToDeploy.Nas.Genotypes;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Networks;

/// <summary>The evaluation networks built from a searched cell.</summary>
public enum NetworkKind { Cifar, ImageNet, Nb201 }

/// <summary>
/// A network built from a searched architecture, trained from scratch. <see cref="forward"/> returns the logits; in
/// training with an auxiliary head, <see cref="ForwardWithAux"/> also returns the auxiliary logits (none in
/// evaluation). Everything except the auxiliary head is what gets deployed.
/// </summary>
public abstract class EvalNetwork(string name) : Module<Tensor, Tensor>(name)
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
        _ => "nb201",
    };

    public static NetworkKind ParseKind(string name) => name.ToLowerInvariant() switch
    {
        "cifar" => NetworkKind.Cifar,
        "imagenet" => NetworkKind.ImageNet,
        "nb201" or "nas-bench-201" => NetworkKind.Nb201,
        _ => throw new InputException($"--network '{name}': expected cifar, imagenet or nb201"),
    };
}
