using SearchToDeploy.Data;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Nas.Search;
using SearchToDeploy.Nas.Supernets;
using SearchToDeploy.Training;

namespace SearchToDeploy.Pipeline;

/// <summary>Where the pipeline reads data and what it gates on; from the command line (Cake arguments).</summary>
public sealed record PipelineInputs(string DataRoot, string? ImageNet = null, string? Transfer = null, double? GateTop1 = null, double? GateTop5 = null, int Threads = 0);

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
        switch (name.ToLowerInvariant())
        {
            case "smoke":
            {
                var s = SearchPresets.Create("smoke", "nas-bench-201", SearchMethod.RfPcDarts) with { Threads = inputs.Threads };
                var data = Transfer(inputs) ?? cifar;
                var t = TrainPresets.Create("smoke", NetworkKind.Nb201) with
                {
                    Channels = 8, Layers = 1, Epochs = 3, BatchSize = 64, MaxTrainImages = 4096, MaxValidImages = 1000, LearningRate = 0.1,
                    Nesterov = true, WeightDecay = 5e-4, ImageSize = 32, Threads = inputs.Threads, Dataset = data.Name, DataPath = inputs.Transfer,
                };
                // A correct chain reaches ~35% top-1 on the first 2,000 test images; a broken one (labels, preprocessing) stays near chance (10%).
                return new("smoke", s, t, data, inputs.GateTop1 ?? 20, inputs.GateTop5 ?? 60, ValidateMaxImages: 2000);
            }
            case "quick":
            {
                var s = SearchPresets.Create("cpu", "nas-bench-201", SearchMethod.RfPcDarts) with { Threads = inputs.Threads };
                var data = Transfer(inputs) ?? cifar;
                var t = TrainPresets.Create("cpu", NetworkKind.Nb201) with
                {
                    Epochs = 5, Threads = inputs.Threads, Dataset = data.Name, DataPath = inputs.Transfer, ImageSize = 32,
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
                var s = SearchPresets.Create("paper", "darts", SearchMethod.RfPcDarts) with { Threads = inputs.Threads };
                var t = TrainPresets.Create("paper-imagenet", NetworkKind.ImageNet) with { Threads = inputs.Threads, DataPath = imagenet.Location };
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
