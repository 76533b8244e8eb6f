using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Nas.Networks;

namespace SearchToDeploy.Runs.Training;

/// <summary>
/// Every setting of a retraining run. A preset (<see cref="TrainPresets"/>) fills them; the command line overrides
/// any. Saved as options.json in the run folder and in the checkpoints.
/// </summary>
public sealed record TrainOptions
{
    public string Preset { get; init; } = "paper-cifar";
    public string Dataset { get; init; } = "cifar10";
    [Core.Checkpoints.LocationSetting]
    public string? DataPath { get; init; }
    /// <summary>CIFAR-100's 20 coarse labels instead of its 100 fine ones (--coarse-labels); left out of the JSON when off.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool CoarseLabels { get; init; }

    // Network
    public NetworkKind Network { get; init; } = NetworkKind.Cifar;
    [Option("--channels", "Initial channels C (CIFAR 36, ImageNet 48, NAS-Bench-201 16)", Min = 2)]
    public long Channels { get; init; } = 36;
    /// <summary>DARTS networks: cells; NAS-Bench-201: cells per stage.</summary>
    [Option("--layers", "Cells (CIFAR 20, ImageNet 14); NAS-Bench-201: cells per stage (5)", Min = 1)]
    public int Layers { get; init; } = 20;
    /// <summary>Weight of the auxiliary head's loss; 0 builds no auxiliary head.</summary>
    [Option("--aux-weight", "Auxiliary head loss weight (0.4); 0 builds no auxiliary head", Min = 0)]
    public double AuxWeight { get; init; } = 0.4;
    /// <summary>Final drop-path probability, ramped linearly from 0 over the epochs.</summary>
    [Option("--drop-path", "Final drop-path probability, ramped linearly from 0 (CIFAR 0.2)", Min = 0, Max = 1, MaxExclusive = true)]
    public double DropPath { get; init; } = 0.2;
    /// <summary>Input resolution of ImageNet-style datasets (random-resized crop / centre crop size).</summary>
    [Option("--image-size", "ImageNet-style datasets: training crop and evaluation centre crop (224; 64 with the cpu and smoke presets and on Imagenette)", Min = 32, Max = 4096)]
    public int ImageSize { get; init; } = 224;
    /// <summary>Refuse, before training, a network with more multiply-adds than this (0 = no limit).</summary>
    public long MaxMultiplyAdds { get; init; }

    // Optimisation
    [Option("--epochs", "Epochs", Min = 1)]
    public int Epochs { get; init; } = 600;
    /// <summary>Batch size; s2d train's own --batch-size also scales paper-imagenet's learning rate, a settings key (pipeline --set) does not.</summary>
    [Option("--batch-size", "Batch size (the learning rate stays as set)", Min = 1)]
    public int BatchSize { get; init; } = 96;
    [Option("--lr", "Initial learning rate", Min = 0, MinExclusive = true)]
    public double LearningRate { get; init; } = 0.025;
    [Option("--lr-min", "Cosine schedule: final learning rate (0)", Min = 0)]
    public double LearningRateMin { get; init; }
    [Option("--schedule", "cosine (per epoch), step (x gamma per epoch) or linear (PC-DARTS ImageNet)")]
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
    [Option("--gamma", "Step schedule factor per epoch (0.97)", Min = 0, Max = 1, MinExclusive = true)]
    public double StepGamma { get; init; } = 0.97;
    [Option("--warmup-epochs", "Linear learning-rate warm-up epochs", Min = 0)]
    public int WarmupEpochs { get; init; }
    [Option("--momentum", "SGD momentum (0.9)", Min = 0, Max = 1, MaxExclusive = true)]
    public double Momentum { get; init; } = 0.9;
    [Option("--nesterov", "Nesterov momentum")]
    public bool Nesterov { get; init; }
    [Option("--weight-decay", "Weight decay", Min = 0)]
    public double WeightDecay { get; init; } = 3e-4;
    [Option("--label-smoothing", "Label smoothing of the training loss (ImageNet 0.1)", Min = 0, Max = 1, MaxExclusive = true)]
    public double LabelSmoothing { get; init; }
    [Option("--grad-clip", "Gradient norm clip (5; 0: none)", Min = 0)]
    public double GradClip { get; init; } = 5;

    // Data
    [Option("--cutout", "CIFAR-style datasets: cutout length (16; 0 = off)", Min = 0)]
    public int Cutout { get; init; } = 16;
    [Option("--color-jitter", "ImageNet-style datasets: brightness/contrast/saturation jitter (0.4)", Min = 0, Max = 1)]
    public float ColorJitter { get; init; } = 0.4f;
    /// <summary>
    /// Hue jitter of ImageNet-style training (paper-imagenet: 0.2, as DARTS's). Off by default and then left out of
    /// options.json, so that runs written before the option existed (which had none) read back as they ran.
    /// </summary>
    [Option("--hue", "ImageNet-style datasets: hue jitter (paper-imagenet 0.2, as DARTS's ImageNet training; 0 = off)", Min = 0, Max = 0.5)]
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public float Hue { get; init; }
    /// <summary>ImageNet-style datasets: the smallest share of the image area a random-resized crop takes (torchvision 0.08).</summary>
    [Option("--crop-scale", "ImageNet-style datasets: smallest share of the image area a random-resized crop takes (torchvision 0.08)", Min = 0, Max = 1, MinExclusive = true)]
    public double CropScaleMin { get; init; } = 0.08;
    /// <summary>Cap on training images (a seeded random subset; 0 = all).</summary>
    [Option("--max-train-images", "Train on a seeded random subset of this many images (0 = all)", Min = 0)]
    public int MaxTrainImages { get; init; }
    /// <summary>Cap on validation images (a seeded subset with each class in proportion; 0 = all).</summary>
    [Option("--max-valid-images", "Validate on a seeded subset of this many images, each class in proportion (0 = all)", Min = 0)]
    public int MaxValidImages { get; init; }
    public int EvalBatchSize { get; init; } = 256;

    // Run
    [Option("--seed", "Random seed (0)", Min = 0)]
    public long Seed { get; init; }
    [Option("--workers", "Data loader threads", Min = 0, Max = 64)]
    [RuntimeSetting]
    public int Workers { get; init; } = 2;
    [Option("--threads", "Torch threads (default: all cores; under MPI, the cores the rank is bound to, or its share of the machine)", Min = 0, Max = 1024)]
    [RuntimeSetting]
    public int Threads { get; init; }
    /// <summary>auto, cpu, cuda or cuda:N (<see cref="SearchToDeploy.Core.Torch.TorchDevices"/>).</summary>
    [RuntimeSetting]
    public string Device { get; init; } = "auto";
    /// <summary>Stop after this many epochs of this invocation (0 = run to the end); for tests and staged runs.</summary>
    [Option("--stop-after", "Stop after this many epochs of this invocation (resume later with --resume)", Min = 0)]
    [RuntimeSetting]
    public int StopAfterEpochs { get; init; }

    public LrSchedule LrSchedule => new(Schedule, LearningRate, Epochs, LearningRateMin, StepGamma, WarmupEpochs);

    public void Validate()
    {
        static void Check(bool ok, string message) { if (!ok) throw new InputException(message); }
        SearchToDeploy.Core.Torch.TorchDevices.Validate(Device);
        Check(Epochs >= 1, $"--epochs {Epochs}: expected at least 1");
        Check(BatchSize >= 1, $"--batch-size {BatchSize}: expected at least 1");
        Check(LearningRate > 0, $"--lr {LearningRate}: expected a positive learning rate");
        Check(Channels >= 2, $"--channels {Channels}: expected at least 2");
        Check(AuxWeight >= 0, $"--aux-weight {AuxWeight}: expected 0 (no auxiliary head) or more");
        Check(DropPath is >= 0 and < 1, $"--drop-path {DropPath}: expected a probability in [0, 1)");
        Check(DropPath == 0 || !Nas.Networks.RetrainNetwork.IsNb201(Network),
            $"--drop-path {DropPath}: the NAS-Bench-201 network has no drop-path (its cells train whole, as the benchmark's did); use --drop-path 0");
        Check(LabelSmoothing is >= 0 and < 1, $"--label-smoothing {LabelSmoothing}: expected a value in [0, 1)");
        Check(WarmupEpochs >= 0 && WarmupEpochs < Epochs, $"--warmup-epochs {WarmupEpochs}: expected 0 or more and fewer than --epochs");
        Check(Schedule != ScheduleKind.Linear || Epochs > 5, "--schedule linear needs more than 5 epochs");
        Check(ImageSize >= 32, $"--image-size {ImageSize}: expected at least 32");
        Check(CropScaleMin is > 0 and <= 1, $"--crop-scale {CropScaleMin}: expected a share of the image area in (0, 1]");
        Check(Cutout >= 0 && MaxTrainImages >= 0 && MaxValidImages >= 0, "--cutout, --max-train-images and --max-valid-images must not be negative");
    }
}
