using System.Text.Json.Serialization;
using SearchToDeploy.Core.Checkpoints;
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
    [Core.Checkpoints.LocationSetting]
    public string? DataPath { get; init; }
    public string Preset { get; init; } = "paper";
    [Option("--seed", "Random seed (default 2, as DARTS)", Min = 0)]
    public long Seed { get; init; } = 2;

    // Data
    [Option("--epochs", "Search epochs", Min = 1)]
    public int Epochs { get; init; } = 50;
    [Option("--batch-size", "Batch size of both halves", Min = 1)]
    public int BatchSize { get; init; } = 64;
    [Option("--train-portion", "Fraction of the training set that trains the weights; the rest trains α (default 0.5)", Min = 0, Max = 1, MinExclusive = true, MaxExclusive = true)]
    public double TrainPortion { get; init; } = 0.5;
    /// <summary>Cap on images in each half of the search split (0 = all).</summary>
    [Option("--max-images", "Cap on images in each half of the split (0 = all)", Min = 0)]
    public int MaxImagesPerPart { get; init; }
    /// <summary>Cap on images of the architecture half evaluated after each epoch (0 = all).</summary>
    [Option("--valid-images", "Images of the architecture half evaluated after each epoch (0 = all)", Min = 0)]
    public int ValidImages { get; init; }
    [Option("--cutout", "Cutout length (0 = off); the share of images cut out rises linearly from 0 at the first epoch to all at the last (RobustDARTS)", Min = 0)]
    public int Cutout { get; init; }
    [Option("--workers", "Data loader threads per loader", Min = 0, Max = 64)]
    [RuntimeSetting]
    public int Workers { get; init; } = 1;

    // Weights: SGD with momentum, cosine learning rate, weight decay, gradient clipping.
    [Option("--lr", "Weight learning rate (cosine-annealed per epoch)", Min = 0, MinExclusive = true)]
    public double LearningRate { get; init; } = 0.025;
    [Option("--lr-min", "Final weight learning rate", Min = 0)]
    public double LearningRateMin { get; init; } = 0.001;
    [Option("--momentum", "SGD momentum", Min = 0, Max = 1, MaxExclusive = true)]
    public double Momentum { get; init; } = 0.9;
    [Option("--nesterov", "Nesterov momentum")]
    public bool Nesterov { get; init; }
    [Option("--weight-decay", "Weight decay of the trainable weights", Min = 0)]
    public double WeightDecay { get; init; } = 3e-4;
    /// <summary>Weight decay of BN affine parameters (null = same as <see cref="WeightDecay"/>).</summary>
    [Option("--bn-weight-decay", "Weight decay of BN affine parameters (default: --weight-decay; RF methods: 0)", Min = 0)]
    public double? BnWeightDecay { get; init; }
    [Option("--grad-clip", "Gradient norm clip of the weights", Min = 0, MinExclusive = true)]
    public double GradClip { get; init; } = 5;
    /// <summary>Drop-path probability applied to the edges' outputs during search, ramped over the epochs (RobustDARTS).</summary>
    [Option("--drop-path", "Drop-path probability on the edges' outputs during search, reached at the last epoch from 0 at the first (RobustDARTS)", Min = 0, Max = 1, MaxExclusive = true)]
    public double DropPath { get; init; }

    // Architecture: Adam.
    [Option("--arch-lr", "Adam learning rate of α (and β)", Min = 0)]
    public double ArchLearningRate { get; init; } = 3e-4;
    [Option("--arch-weight-decay", "Adam weight decay of α", Min = 0)]
    public double ArchWeightDecay { get; init; } = 1e-3;
    public double ArchBeta1 { get; init; } = 0.5;
    public double ArchBeta2 { get; init; } = 0.999;
    /// <summary>Epochs before α starts to train (PC-DARTS: 15).</summary>
    [Option("--arch-warmup", "Epochs before α starts to train (PC-DARTS 15)", Min = 0)]
    public int ArchWarmupEpochs { get; init; }
    /// <summary>Second order (unrolled) architecture gradient.</summary>
    [Option("--unrolled", "Second-order (unrolled) architecture gradient")]
    public bool Unrolled { get; init; }
    /// <summary>Second order: the finite-difference step of the Hessian-vector product is this over ‖∇w' L_val‖ (DARTS: 0.01).</summary>
    [Option("--unrolled-epsilon", "Second order: finite-difference step of the Hessian-vector product, divided by the gradient norm (DARTS 0.01)", Min = 0, MinExclusive = true)]
    public double UnrolledEpsilon { get; init; } = 0.01;
    /// <summary>
    /// First order: compute the architecture and weight gradients side by side on two cores at the same (w, α), then
    /// update both (simultaneous instead of alternating updates; <see cref="SearchToDeploy.Nas.Strategies.ParallelSteps"/>).
    /// </summary>
    [Option("--parallel-steps", "First order: architecture and weight gradients side by side on two cores, then both updates (simultaneous instead of alternating; about 1.2x faster on 2 cores)")]
    public bool ParallelSteps { get; init; }
    /// <summary>
    /// Take the weight step before the architecture step, as xautodl's NAS-Bench-201 DARTS-V1 and GDAS do (α's
    /// gradient then sees the weights just updated); off: DARTS's train_search.py order, α first. Parallel steps
    /// take both gradients at the same point, so there it has nothing to order (the NAS-Bench-201 paper preset's
    /// default then gives way). Left out of options.json when off, so runs written before the option existed still resume.
    /// </summary>
    [Option("--weights-first", "Weight step before the architecture step, as xautodl's NAS-Bench-201 DARTS-V1 and GDAS (default: α first, as DARTS's train_search.py; with --parallel-steps neither comes first)")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool WeightsFirst { get; init; }
    /// <summary>
    /// The activations' number format (<see cref="SearchToDeploy.Core.Torch.Precision"/>); parameters and optimizer state stay float32.
    /// Left out of options.json when float32, so runs written before the option existed still resume.
    /// </summary>
    [Option("--precision", "Activations: fp32 (default) or bf16 (bfloat16 activations, float32 parameters and optimizer state; first order only; 1.3-1.7x faster on CPUs with AVX-512 BF16)")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public Precision Precision { get; init; }

    // Supernet.
    [Option("--channels", "Initial channels C (16)", Min = 2)]
    public int Channels { get; init; } = 16;
    /// <summary>DARTS: cells (8). NAS-Bench-201: cells per stage (5).</summary>
    [Option("--layers", "DARTS: cells (8); NAS-Bench-201: cells per stage (5)", Min = 1)]
    public int Layers { get; init; } = 8;
    [Option("--nodes", "Intermediate nodes of a DARTS-style cell (4)", Min = 1)]
    public int Steps { get; init; } = 4;
    [Option("--partial-k", "Partial-channel factor K of PC methods (4)", Min = 1)]
    public int PartialK { get; init; } = 4;

    // Random features and batch norm.
    [Option("--frozen-init", "RF: initialisation of the frozen filters: kaiming-normal (default for RF), kaiming-uniform, or default (torch's Kaiming-uniform a=sqrt(5))")]
    public FrozenInit FrozenInit { get; init; } = FrozenInit.Default;
    [Option("--train-classifier", "RF: whether the final linear classifier trains (default true; false keeps it a random feature too)")]
    public bool TrainClassifier { get; init; }
    [Option("--bn-running-stats", "The cells' BN tracks running statistics (evaluation uses them); false = the cells' BN always uses batch statistics (the stem's keeps tracking, as in xautodl)")]
    public bool TrackRunningStats { get; init; } = true;
    [Option("--bn-momentum", "BN running-statistics momentum (0.1)", Min = 0, Max = 1)]
    public double BnMomentum { get; init; } = 0.1;

    /// <summary>NAS-Bench-201: derive cells from the ops other than none (default: the benchmark's rule, none included).</summary>
    [Option("--derive-without-none", "NAS-Bench-201: derive each edge's op from the ops other than none (default: the benchmark's argmax over all five)")]
    public bool DeriveWithoutNone { get; init; }

    /// <summary>How the final cell is chosen from the trained supernet: "alpha" (the space's rule on α) or "perturbation".</summary>
    [Option("--selection", "How the final cell is chosen: alpha (the largest architecture weights, DARTS's rule) or perturbation (the ops and inputs whose removal costs the trained supernet most on held-out images, DARTS-PT without fine-tuning; its losses are journaled in selection.jsonl, so --resume continues an interrupted selection); a finished run resumed with another --selection chooses again")]
    [RuntimeSetting]
    public string Selection { get; init; } = CellSelection.Alpha;
    [Option("--selection-images", "Held-out images (of the architecture half) each perturbation measurement runs on", Min = 1)]
    [RuntimeSetting]
    public int SelectionImages { get; init; } = 1024;

    // Runtime.
    [Option("--threads", "Torch threads (default: all cores; under MPI, the cores the rank is bound to, or its share of the machine)", Min = 0, Max = 1024)]
    [RuntimeSetting]
    public int Threads { get; init; }
    /// <summary>auto, cpu, cuda or cuda:N (<see cref="SearchToDeploy.Core.Torch.TorchDevices"/>).</summary>
    [RuntimeSetting]
    public string Device { get; init; } = "auto";
    [Option("--nb201-table", "NAS-Bench-201 accuracy table (TSV): log each epoch's cell accuracy (default: <data root>/nas-bench-201/accuracy.tsv if present)")]
    [RuntimeSetting]
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
        if (ParallelSteps && SearchSpace.Normal.Concat(SearchSpace.Reduce).Any(edge => edge.Contains(SearchToDeploy.Nas.Ops.OpRegistry.Noise)))
            throw new InputException($"--parallel-steps: space {Space}'s noise op would draw its random numbers on two threads at once, which is not reproducible; drop --parallel-steps");
        if (DropPath is < 0 or >= 1) throw new InputException($"--drop-path {DropPath}: expected 0 <= p < 1");
        if (Momentum is < 0 or >= 1) throw new InputException($"--momentum {Momentum}: expected 0 <= m < 1");
        if (PartialK < 1) throw new InputException($"--partial-k {PartialK}: expected 1 or more");
        _ = SearchSpace;
        if (!CellSelection.IsKnown(Selection)) throw new InputException($"--selection '{Selection}': expected alpha or perturbation");
        if (SelectionImages < 1) throw new InputException($"--selection-images {SelectionImages}: expected 1 or more");
        if (DeriveWithoutNone && !SearchSpace.Kind.DerivationMayKeepNone)
            throw new InputException($"--derive-without-none applies to NAS-Bench-201 only; the DARTS rule of space {Space} always leaves 'none' out");
        SupernetConfig(classes: 2).Validate(); // the supernet's shape (cells, nodes, partial channels), before any data is read
    }

    /// <summary>
    /// The supernet shape these options give for a dataset with <paramref name="classes"/> classes. Drop-path masks
    /// each edge's output, so with drop-path on the cells are computed edge by edge (the fused cells sum the ops
    /// of a node at once, with no edge output to mask).
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
