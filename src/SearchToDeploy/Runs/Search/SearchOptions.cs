using System.Text.Json.Serialization;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;

namespace SearchToDeploy.Runs.Search;

/// <summary>
/// Every setting of a search. A preset (<see cref="SearchPresets"/>) fills them; the command line overrides any.
/// </summary>
public sealed record SearchOptions
{
    public required string Space { get; init; }
    public required SearchMethod Method { get; init; }
    public string Dataset { get; init; } = "cifar10";
    public string? DataPath { get; init; }
    public string Preset { get; init; } = "paper";
    public long Seed { get; init; } = 2;

    // Data
    public int Epochs { get; init; } = 50;
    public int BatchSize { get; init; } = 64;
    public double TrainPortion { get; init; } = 0.5;
    /// <summary>Cap on images in each half of the search split (0 = all).</summary>
    public int MaxImagesPerPart { get; init; }
    /// <summary>Cap on images of the architecture half evaluated after each epoch (0 = all).</summary>
    public int ValidImages { get; init; }
    public int Cutout { get; init; }
    public int Workers { get; init; } = 1;

    // Weights: SGD with momentum, cosine learning rate, weight decay, gradient clipping.
    public double LearningRate { get; init; } = 0.025;
    public double LearningRateMin { get; init; } = 0.001;
    public double Momentum { get; init; } = 0.9;
    public bool Nesterov { get; init; }
    public double WeightDecay { get; init; } = 3e-4;
    /// <summary>Weight decay of BN affine parameters (null = same as <see cref="WeightDecay"/>).</summary>
    public double? BnWeightDecay { get; init; }
    public double GradClip { get; init; } = 5;
    /// <summary>Drop-path probability applied to op outputs during search (RobustDARTS).</summary>
    public double DropPath { get; init; }

    // Architecture: Adam.
    public double ArchLearningRate { get; init; } = 3e-4;
    public double ArchWeightDecay { get; init; } = 1e-3;
    public double ArchBeta1 { get; init; } = 0.5;
    public double ArchBeta2 { get; init; } = 0.999;
    /// <summary>Epochs before α starts to train (PC-DARTS: 15).</summary>
    public int ArchWarmupEpochs { get; init; }
    /// <summary>Second order (unrolled) architecture gradient.</summary>
    public bool Unrolled { get; init; }
    /// <summary>Second order: the finite-difference step of the Hessian-vector product is this over ‖∇w' L_val‖ (DARTS: 0.01).</summary>
    public double UnrolledEpsilon { get; init; } = 0.01;
    /// <summary>
    /// First order: compute the architecture and weight gradients side by side on two cores at the same (w, α), then
    /// update both (simultaneous instead of alternating updates; <see cref="SearchToDeploy.Nas.Strategies.ParallelSteps"/>).
    /// </summary>
    public bool ParallelSteps { get; init; }
    /// <summary>
    /// The activations' number format (<see cref="SearchToDeploy.Core.Torch.Precision"/>); parameters and optimizer state stay float32.
    /// Left out of options.json when float32, so runs written before the option existed still resume.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public Precision Precision { get; init; }

    // Supernet.
    public int Channels { get; init; } = 16;
    /// <summary>DARTS: cells (8). NAS-Bench-201: cells per stage (5).</summary>
    public int Layers { get; init; } = 8;
    public int Steps { get; init; } = 4;
    public int PartialK { get; init; } = 4;

    // Random features and batch norm.
    public FrozenInit FrozenInit { get; init; } = FrozenInit.Default;
    public bool TrainClassifier { get; init; }
    public bool TrackRunningStats { get; init; } = true;
    public double BnMomentum { get; init; } = 0.1;

    /// <summary>NAS-Bench-201: derive cells from the ops other than none (default: the benchmark's rule, none included).</summary>
    public bool DeriveWithoutNone { get; init; }

    // Runtime.
    public int Threads { get; init; }
    /// <summary>auto, cpu, cuda or cuda:N (<see cref="SearchToDeploy.Core.Torch.TorchDevices"/>).</summary>
    public string Device { get; init; } = "auto";
    public string? Nb201Table { get; init; }

    public SearchSpace SearchSpace => SearchSpaces.Get(Space);

    public void Validate()
    {
        void Positive(string name, double v) { if (!(v > 0)) throw new InputException($"{name} {v}: expected a positive number"); }
        void NonNegative(string name, double v) { if (!(v >= 0)) throw new InputException($"{name} {v}: expected 0 or more"); }
        Positive("--epochs", Epochs);
        Positive("--batch-size", BatchSize);
        Positive("--lr", LearningRate);
        NonNegative("--lr-min", LearningRateMin);
        NonNegative("--weight-decay", WeightDecay);
        NonNegative("--grad-clip", GradClip);
        Positive("--arch-lr", ArchLearningRate);
        NonNegative("--arch-weight-decay", ArchWeightDecay);
        NonNegative("--arch-warmup", ArchWarmupEpochs);
        Positive("--unrolled-epsilon", UnrolledEpsilon);
        if (ArchWarmupEpochs >= Epochs) throw new InputException($"--arch-warmup {ArchWarmupEpochs}: must be below --epochs {Epochs}, or the architecture never trains");
        SearchToDeploy.Core.Torch.TorchDevices.Validate(Device);
        if (ParallelSteps && Unrolled) throw new InputException("--parallel-steps works with first-order steps only; drop --unrolled or --parallel-steps");
        if (Precision != Precision.Float32 && Unrolled)
            throw new InputException($"--precision {Precision.Name()} works with first-order steps only: the second-order step differences two gradients taken 2ε apart, which {Precision.Name()} activations round away; drop --unrolled or use --precision fp32");
        if (ParallelSteps && DropPath > 0) throw new InputException("--parallel-steps needs --drop-path 0: drop-path masks drawn on two threads at once would not be reproducible");
        if (DropPath is < 0 or >= 1) throw new InputException($"--drop-path {DropPath}: expected 0 <= p < 1");
        if (Momentum is < 0 or >= 1) throw new InputException($"--momentum {Momentum}: expected 0 <= m < 1");
        if (PartialK < 1) throw new InputException($"--partial-k {PartialK}: expected 1 or more");
        _ = SearchSpace;
        if (DeriveWithoutNone && SearchSpace.Kind != SpaceKind.Nb201)
            throw new InputException($"--derive-without-none applies to NAS-Bench-201 only; the DARTS rule of space {Space} always leaves 'none' out");
    }

    /// <summary>
    /// The supernet shape these options give for a dataset with <paramref name="classes"/> classes. Drop-path masks
    /// each op's output, so with drop-path on the cells are computed edge by edge (the fused cells sum the ops
    /// before there is an op output to mask).
    /// </summary>
    /// <summary>How the strategy trains α (<see cref="ArchitectureSettings"/>).</summary>
    [JsonIgnore]
    public ArchitectureSettings Architecture => new(ArchLearningRate, ArchBeta1, ArchBeta2, ArchWeightDecay, UnrolledEpsilon);

    public SupernetConfig SupernetConfig(int classes) => new(
        SearchSpace, classes, Channels, Layers, Steps, StemMultiplier: 3,
        PartialK: Method.PartialChannels ? PartialK : 1,
        EdgeNormalization: Method.PartialChannels,
        Affine: Method.RandomFeatures,
        TrackRunningStats, BnMomentum, Fused: DropPath == 0, DeriveWithoutNone: DeriveWithoutNone, Precision: Precision);
}
