using SearchToDeploy.Core.Optim;
using SearchToDeploy.Nas.Networks;
using static SearchToDeploy.Nas.Networks.RetrainNetwork;

namespace SearchToDeploy.Runs.Training;

/// <summary>
/// Retraining recipes. paper-cifar: DARTS CIFAR (C=36, 20 cells, 600 epochs, batch 96, lr 0.025 cosine, wd 3e-4,
/// cutout 16, auxiliary 0.4, drop-path 0.2); for a NAS-Bench-201 cell, the benchmark's protocol (C=16, 5 cells per
/// stage, 200 epochs, batch 256, Nesterov lr 0.1 cosine, wd 5e-4). paper-imagenet: DARTS ImageNet, mobile setting
/// (C=48, 14 cells, 250 epochs, batch 128, lr 0.1 ×0.97 per epoch, wd 3e-5, label smoothing 0.1, auxiliary 0.4,
/// under 600M multiply-adds); a different batch scales the learning rate with it, and batches over 256 warm up for 5
/// epochs (PC-DARTS). cpu: a small network and a short schedule for a 2-core CPU (for ImageNet-style images, the 64-px
/// ImageNet network on Imagenette). smoke: a tiny CI budget.
/// </summary>
public static class TrainPresets
{
    public static readonly IReadOnlyList<string> Names = ["paper-cifar", "paper-imagenet", "cpu", "smoke"];
    public const int ImageNetReferenceBatch = 128;

    public static TrainOptions Create(string preset, NetworkKind network, int? batchSize = null)
    {
        var o = preset.ToLowerInvariant() switch
        {
            "paper-cifar" when RetrainNetwork.IsNb201(network) => Nb201Paper() with { Network = network },
            "paper-cifar" => new TrainOptions { Preset = "paper-cifar", Network = NetworkKind.Cifar },
            "paper-imagenet" => ImageNet(batchSize ?? ImageNetReferenceBatch),
            "cpu" => Cpu(network),
            "smoke" => Smoke(network),
            _ => throw new InputException($"--preset '{preset}': expected one of {string.Join(", ", Names)}"),
        };
        return batchSize is { } b ? o with { BatchSize = b } : o;
    }

    private static TrainOptions Nb201Paper() => new()
    {
        Preset = "paper-cifar", Network = NetworkKind.Nb201, Channels = 16, Layers = 5, AuxWeight = 0, DropPath = 0,
        Epochs = 200, BatchSize = 256, LearningRate = 0.1, Nesterov = true, WeightDecay = 5e-4, Cutout = 0,
        GradClip = 0, // the benchmark's training loop does not clip (DARTS's does)
    };

    private static TrainOptions ImageNet(int batch) => new()
    {
        Preset = "paper-imagenet", Dataset = "imagenet", Network = NetworkKind.ImageNet, Channels = 48, Layers = 14,
        AuxWeight = 0.4, DropPath = 0, Epochs = 250, BatchSize = batch,
        LearningRate = 0.1 * batch / ImageNetReferenceBatch, Schedule = ScheduleKind.Step, StepGamma = 0.97,
        WarmupEpochs = batch > 256 ? 5 : 0, WeightDecay = 3e-5, LabelSmoothing = 0.1, Cutout = 0, ImageSize = 224, Hue = 0.2f,
        MaxMultiplyAdds = 600_000_000, EvalBatchSize = 100,
    };

    /// <summary>
    /// Sized for a 2-core CPU within an hour (docs/benchmarks.md): a NAS-Bench-201 cell in its network at C=16 with 2
    /// cells per stage, 12 epochs of CIFAR-10; a DARTS cell in a 5-cell C=16 CIFAR network for 8 epochs (DARTS cells are
    /// several times slower per image: many small depthwise convolutions; docs/benchmarks.md). One cosine cycle, no auxiliary head,
    /// drop-path or cutout (they pay off only in long schedules). A DARTS cell on ImageNet-style images at 64 px (the
    /// Deploy chain's transfer to Imagenette): the 64-px ImageNet network at C=16 with 8 cells, the recipe of
    /// docs/training.md, chosen by measurement there: random-resized crops of at least a quarter of the image, flip,
    /// label smoothing, auxiliary head, drop-path, one cosine cycle (a warm-up did not help at this budget).
    /// </summary>
    private static TrainOptions Cpu(NetworkKind network) => network switch
    {
        NetworkKind.ImageNet64 => new TrainOptions
        {
            Preset = "cpu", Dataset = "imagenette", Network = NetworkKind.ImageNet64, Channels = 16, Layers = 8, AuxWeight = 0.4, DropPath = 0.1,
            Epochs = 15, BatchSize = 64, LearningRate = 0.1, Nesterov = true, WarmupEpochs = 0, WeightDecay = 3e-4, LabelSmoothing = 0.1,
            Cutout = 0, ColorJitter = 0, CropScaleMin = 0.25, ImageSize = 64, EvalBatchSize = 128,
        },
        // The same recipe for NAS-Bench-201's network at 64 px (the transfer study's ResNet), which has no auxiliary head or drop-path.
        NetworkKind.Nb201x64 => Cpu(NetworkKind.ImageNet64) with { Network = NetworkKind.Nb201x64, AuxWeight = 0, DropPath = 0, Layers = 2 },
        NetworkKind.Nb201 => new TrainOptions
        {
            Preset = "cpu", Network = NetworkKind.Nb201, Channels = 16, Layers = 2, AuxWeight = 0, DropPath = 0,
            Epochs = 12, BatchSize = 128, LearningRate = 0.1, Nesterov = true, WeightDecay = 5e-4, Cutout = 0,
        },
        NetworkKind.ImageNet => new TrainOptions
        {
            Preset = "cpu", Dataset = "imagenet", Network = NetworkKind.ImageNet, Channels = 16, Layers = 5, AuxWeight = 0, DropPath = 0,
            Epochs = 10, BatchSize = 32, LearningRate = 0.05, WeightDecay = 3e-5, LabelSmoothing = 0.1, Cutout = 0, ImageSize = 128,
        },
        _ => new TrainOptions
        {
            Preset = "cpu", Network = NetworkKind.Cifar, Channels = 16, Layers = 5, AuxWeight = 0, DropPath = 0,
            Epochs = 8, BatchSize = 128, LearningRate = 0.1, WeightDecay = 3e-4, Cutout = 0,
        },
    };

    private static TrainOptions Smoke(NetworkKind network) => new()
    {
        Preset = "smoke", Dataset = network switch { NetworkKind.ImageNet => "imagenet", NetworkKind.ImageNet64 or NetworkKind.Nb201x64 => "imagenette", _ => "cifar10" }, Network = network,
        Channels = 8, Layers = RetrainNetwork.IsNb201(network) ? 1 : 3, AuxWeight = RetrainNetwork.IsNb201(network) ? 0 : 0.4,
        DropPath = RetrainNetwork.IsNb201(network) ? 0 : 0.1, Epochs = 2, BatchSize = 32, LearningRate = 0.05, Cutout = 0,
        MaxTrainImages = 256, MaxValidImages = 256, ImageSize = 64, Workers = 1,
    };
}
