using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Networks;

/// <summary>
/// The evaluation networks built from a searched cell: DARTS's CIFAR and ImageNet (mobile setting, 224 px) networks,
/// the ImageNet network's variant for 64-px inputs, NAS-Bench-201's network, and its variant for 64-px inputs (a
/// stride-2 stem; with the benchmark's ResNet cell it is a ResNet).
/// </summary>
public enum NetworkKind { Cifar, ImageNet, Nb201, ImageNet64, Nb201x64 }
