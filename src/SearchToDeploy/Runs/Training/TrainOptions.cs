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
    public string? DataPath { get; init; }

    // Network
    public NetworkKind Network { get; init; } = NetworkKind.Cifar;
    public long Channels { get; init; } = 36;
    /// <summary>DARTS networks: cells; NAS-Bench-201: cells per stage.</summary>
    public int Layers { get; init; } = 20;
    /// <summary>Weight of the auxiliary head's loss; 0 builds no auxiliary head.</summary>
    public double AuxWeight { get; init; } = 0.4;
    /// <summary>Final drop-path probability, ramped linearly from 0 over the epochs.</summary>
    public double DropPath { get; init; } = 0.2;
    /// <summary>Input resolution of ImageNet-style datasets (random-resized crop / centre crop size).</summary>
    public int ImageSize { get; init; } = 224;
    /// <summary>Refuse, before training, a network with more multiply-adds than this (0 = no limit).</summary>
    public long MaxMultiplyAdds { get; init; }

    // Optimisation
    public int Epochs { get; init; } = 600;
    public int BatchSize { get; init; } = 96;
    public double LearningRate { get; init; } = 0.025;
    public double LearningRateMin { get; init; }
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
    public double StepGamma { get; init; } = 0.97;
    public int WarmupEpochs { get; init; }
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; } = 3e-4;
    public double LabelSmoothing { get; init; }
    public double GradClip { get; init; } = 5;

    // Data
    public int Cutout { get; init; } = 16;
    public float ColorJitter { get; init; } = 0.4f;
    /// <summary>ImageNet-style datasets: the smallest share of the image area a random-resized crop takes (torchvision 0.08).</summary>
    public double CropScaleMin { get; init; } = 0.08;
    /// <summary>Cap on training images (a seeded random subset; 0 = all).</summary>
    public int MaxTrainImages { get; init; }
    /// <summary>Cap on validation images (a seeded subset with each class in proportion; 0 = all).</summary>
    public int MaxValidImages { get; init; }
    public int EvalBatchSize { get; init; } = 256;

    // Run
    public long Seed { get; init; }
    public int Workers { get; init; } = 2;
    public int Threads { get; init; }
    /// <summary>auto, cpu, cuda or cuda:N (<see cref="SearchToDeploy.Core.Torch.TorchDevices"/>).</summary>
    public string Device { get; init; } = "auto";
    /// <summary>Stop after this many epochs of this invocation (0 = run to the end); for tests and staged runs.</summary>
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
        Check(LabelSmoothing is >= 0 and < 1, $"--label-smoothing {LabelSmoothing}: expected a value in [0, 1)");
        Check(WarmupEpochs >= 0 && WarmupEpochs < Epochs, $"--warmup-epochs {WarmupEpochs}: expected 0 or more and fewer than --epochs");
        Check(Schedule != ScheduleKind.Linear || Epochs > 5, "--schedule linear needs more than 5 epochs");
        Check(ImageSize >= 32, $"--image-size {ImageSize}: expected at least 32");
        Check(CropScaleMin is > 0 and <= 1, $"--crop-scale {CropScaleMin}: expected a share of the image area in (0, 1]");
        Check(Cutout >= 0 && MaxTrainImages >= 0 && MaxValidImages >= 0, "--cutout, --max-train-images and --max-valid-images must not be negative");
    }
}
