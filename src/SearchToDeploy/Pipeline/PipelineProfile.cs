using SearchToDeploy.Data;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Nas.Search;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Training;

namespace SearchToDeploy.Pipeline;

/// <summary>Where the pipeline reads data and what it gates on; from the command line (Cake arguments).</summary>
public sealed record PipelineInputs(string DataRoot, string? ImageNet = null, string? Transfer = null, double? GateTop1 = null, double? GateTop5 = null, int Threads = 0)
{
    /// <summary>Search space instead of the profile's (a DARTS-style space retrains the CIFAR network in smoke and quick).</summary>
    public string? Space { get; init; }
    /// <summary>Search method instead of the profile's RF-PCDARTS.</summary>
    public SearchMethod? Method { get; init; }
    public long? Seed { get; init; }
    /// <summary>Search with parallel steps (<see cref="SearchOptions.ParallelSteps"/>).</summary>
    public bool ParallelSteps { get; init; }
    /// <summary>NAS-Bench-201: derive the searched cell without none (<see cref="SearchOptions.DeriveWithoutNone"/>).</summary>
    public bool DeriveWithoutNone { get; init; }
    /// <summary>The search's activations (<see cref="SearchOptions.Precision"/>).</summary>
    public Precision Precision { get; init; }
    /// <summary>Where search and training run: auto, cpu, cuda or cuda:N (<see cref="Util.TorchDevices"/>).</summary>
    public string Device { get; init; } = "auto";
}

/// <summary>
/// One end-to-end recipe: the search, the retraining, the validation split and the gates.
/// smoke: a tiny budget for CI (minutes). quick (default): RF-PCDARTS on NAS-Bench-201 with the cpu preset, then a
/// short retraining on CIFAR-10 (or the --transfer image folder), validated on the real test split; within 45 minutes
/// on a 2-core CPU. paper: RF-PCDARTS in the DARTS space on CIFAR-10, retraining on ImageNet in the mobile setting
/// (--imagenet required), gates at the published level less a margin.
/// </summary>
public sealed record PipelineProfile(string Name, SearchOptions Search, TrainOptions Train, DatasetRef TrainData, double GateTop1, double GateTop5,
    int ValidateMaxImages = 0)
{
    public static readonly IReadOnlyList<string> Names = ["quick", "smoke", "paper"];

    /// <summary>RF-PCDARTS's published ImageNet result is 23.9% / 7.1% top-1/top-5 error; the paper gates allow this much less.</summary>
    public const double PaperMargin = 1.5;

    public static PipelineProfile Create(string name, PipelineInputs inputs)
    {
        var cifar = DatasetRef.Resolve("cifar10", inputs.DataRoot);
        var method = inputs.Method ?? SearchMethod.RfPcDarts;
        SearchOptions Search(string preset, string space)
        {
            var o = SearchPresets.Create(preset, inputs.Space ?? space, method) with { Threads = inputs.Threads, Device = inputs.Device };
            if (inputs.ParallelSteps) o = o with { ParallelSteps = true };
            if (inputs.DeriveWithoutNone) o = o with { DeriveWithoutNone = true };
            if (inputs.Precision != Precision.Float32) o = o with { Precision = inputs.Precision };
            return inputs.Seed is { } seed ? o with { Seed = seed } : o;
        }
        bool nb201 = inputs.Space is null || SearchSpaces.Get(inputs.Space).Kind == SpaceKind.Nb201;
        var smallNetwork = nb201 ? NetworkKind.Nb201 : NetworkKind.Cifar;
        switch (name.ToLowerInvariant())
        {
            case "smoke":
            {
                var s = Search("smoke", "nas-bench-201");
                var data = Transfer(inputs) ?? cifar;
                var t = TrainPresets.Create("smoke", smallNetwork) with
                {
                    Channels = 8, Layers = smallNetwork == NetworkKind.Nb201 ? 1 : 3, AuxWeight = 0, DropPath = 0, Epochs = 3, BatchSize = 64, MaxTrainImages = 4096, MaxValidImages = 1000, LearningRate = 0.1,
                    Nesterov = true, WeightDecay = 5e-4, ImageSize = 32, Threads = inputs.Threads, Device = inputs.Device, Dataset = data.Name, DataPath = inputs.Transfer,
                };
                // A correct chain reaches ~35% top-1 on the first 2,000 test images; a broken one (labels, preprocessing) stays near chance (10%).
                return new("smoke", s, t, data, inputs.GateTop1 ?? 20, inputs.GateTop5 ?? 60, ValidateMaxImages: 2000);
            }
            case "quick":
            {
                var s = Search("cpu", "nas-bench-201");
                var data = Transfer(inputs) ?? cifar;
                var t = TrainPresets.Create("cpu", smallNetwork) with
                {
                    Epochs = smallNetwork == NetworkKind.Nb201 ? 5 : 3, Threads = inputs.Threads, Device = inputs.Device, Dataset = data.Name, DataPath = inputs.Transfer, ImageSize = 32,
                };
                return new("quick", s, t, data, inputs.GateTop1 ?? 70, inputs.GateTop5 ?? 93);
            }
            case "paper":
            {
                if (inputs.ImageNet is null)
                    throw new InputException("--profile paper retrains on ImageNet: pass --imagenet <folder with train/ and val/> (checked before the search starts)");
                var imagenet = DatasetRef.Resolve("imagenet", inputs.DataRoot, inputs.ImageNet);
                imagenet.Open(Split.Train);
                imagenet.Open(Split.Test);
                if (inputs.Space is not null && nb201)
                    throw new InputException("--profile paper transfers a DARTS-space cell to ImageNet; --space nas-bench-201 cells do not build the ImageNet network");
                var s = Search("paper", "darts");
                var t = TrainPresets.Create("paper-imagenet", NetworkKind.ImageNet) with { Threads = inputs.Threads, Device = inputs.Device, DataPath = imagenet.Location };
                return new("paper", s, t, imagenet, inputs.GateTop1 ?? 100 - 23.9 - PaperMargin, inputs.GateTop5 ?? 100 - 7.1 - PaperMargin);
            }
            default:
                throw new InputException($"--profile '{name}': expected one of {string.Join(", ", Names)}");
        }
    }

    private static DatasetRef? Transfer(PipelineInputs inputs)
    {
        if (inputs.Transfer is null) return null;
        var d = DatasetRef.Resolve("imagefolder", inputs.DataRoot, inputs.Transfer);
        d.Open(Split.Train);
        d.Open(Split.Test);
        return d;
    }
}
