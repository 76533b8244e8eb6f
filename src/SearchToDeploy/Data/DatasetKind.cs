
namespace SearchToDeploy.Data;

/// <summary>The datasets s2d reads (<see cref="DatasetRef"/> locates and opens them).</summary>
public enum DatasetKind { Cifar10, Cifar100, Svhn, ImageNet, ImageFolder, Imagenette }
