using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Runs;
using SearchToDeploy.Runs.Search;
using SearchToDeploy.Runs.Training;

namespace SearchToDeploy.Pipeline;

/// <summary>
/// One end-to-end recipe: the search, the retraining, the validation split and the gates.
/// imagenet (default): RF-PCDARTS in the DARTS space on CIFAR-10 with the cpu preset, its cell selected by perturbation
/// (the paper profile selects by α, as published), transferred to the ImageNet network and retrained on ImageNet
/// (Imagenette at 64 px from the data root, or the full ImageNet at 224 px with --imagenet), validated on its
/// validation split. nb201: RF-PCDARTS on NAS-Bench-201 with the cpu preset, then a
/// short retraining on CIFAR-10. smoke: the imagenet chain at a tiny budget for CI (minutes; with a NAS-Bench-201
/// space, the nb201 chain's). paper: the published settings, RF-PCDARTS in the DARTS space on CIFAR-10 and retraining
/// on ImageNet in the mobile setting (--imagenet required), gates at the published level less a margin. Each takes
/// --transfer (an image folder) instead of its retraining data.
/// </summary>
public sealed record PipelineProfile(string Name, SearchOptions Search, TrainOptions Train, DatasetRef TrainData, double GateTop1, double GateTop5,
    int ValidateMaxImages = 0)
{
    public const string Default = "imagenet";
    public static readonly IReadOnlyList<string> Names = ["imagenet", "nb201", "smoke", "paper"];

    /// <summary>RF-PCDARTS's published ImageNet result is 23.9% / 7.1% top-1/top-5 error; the paper gates allow this much less.</summary>
    public const double PaperMargin = 1.5;

    /// <summary>
    /// The imagenet profile's gates on Imagenette: the mean top-1/top-5 of its 25-epoch chain over the three search
    /// seeds measured here (docs/training.md) less a margin that a healthy chain clears and a broken one (labels,
    /// preprocessing, augmentation, a collapsed cell) does not.
    /// </summary>
    public const double ImagenetteGateTop1 = 77, ImagenetteGateTop5 = 95;

    /// <summary>
    /// The imagenet profile's retraining epochs on Imagenette at 64 px: the cpu preset's recipe, run longer than its
    /// 15 epochs, because the chain's cell gains about 3 points from 25 (docs/training.md) within the hour's budget.
    /// </summary>
    public const int ImagenetteEpochs = 25;

    /// <param name="openData">Open the datasets now, so that a missing or malformed one is reported before the search
    /// starts; false where only the settings are wanted (--print-config).</param>
    public static PipelineProfile Create(string name, PipelineInputs inputs, bool openData = true)
    {
        Deploy.Validation.ValidationReport.CheckGate("--gate-top1", inputs.GateTop1);
        Deploy.Validation.ValidationReport.CheckGate("--gate-top5", inputs.GateTop5);
        DatasetRef OpenBoth(DatasetRef d) => openData ? PipelineProfile.OpenBoth(d) : d;
        DatasetRef? Transfer(PipelineInputs i) => i.Transfer is null ? null : OpenBoth(DatasetRef.Resolve("imagefolder", i.DataRoot, i.Transfer));
        var method = inputs.Method ?? SearchMethod.RfPcDarts;
        SearchOptions Search(string preset, string space, string selection = CellSelection.Alpha)
        {
            var o = SearchPresets.Create(preset, inputs.Space ?? space, method) with { Threads = inputs.Threads, Device = inputs.Device, Selection = selection };
            // The pipeline's own search switches, then --set, through the one override table.
            var given = new List<KeyValuePair<string, string>>();
            if (inputs.ParallelSteps) given.Add(new("parallel-steps", "true"));
            if (inputs.DeriveWithoutNone) given.Add(new("derive-without-none", "true"));
            if (inputs.Precision != Precision.Float32) given.Add(new("precision", Precisions.Name(inputs.Precision)));
            if (inputs.Seed is { } seed) given.Add(new("seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            return OptionTable.ApplyText(o, given.Concat(inputs.SettingsOf("search")), $"{inputs.SettingsSource}: search");
        }
        TrainOptions Runtime(TrainOptions t, DatasetRef data) => OptionTable.ApplyText(
            t with { Threads = inputs.Threads, Device = inputs.Device, Dataset = data.Name, DataPath = data.Kind is DatasetKind.ImageFolder or DatasetKind.ImageNet ? data.Location : null },
            inputs.SettingsOf("train"), $"{inputs.SettingsSource}: train");
        string profile = name.ToLowerInvariant() == "quick" ? "nb201" : name.ToLowerInvariant(); // quick: the nb201 chain's former name
        bool nb201 = inputs.Space is not null && !SearchSpaces.Get(inputs.Space).Kind.Transfers;
        if (inputs.ImageNet is not null && profile is "nb201" or "smoke")
            throw new InputException($"--imagenet: --profile {profile} does not retrain on ImageNet; --imagenet applies to --profile imagenet and paper");
        if (inputs.Transfer is not null && profile == "paper")
            throw new InputException("--transfer: --profile paper retrains on the ImageNet of --imagenet; to retrain on an image folder use --profile imagenet --transfer");
        if (inputs.Transfer is not null && inputs.ImageNet is not null)
            throw new InputException("--imagenet and --transfer: each names the data to retrain on; give one");
        switch (profile)
        {
            case "imagenet":
            {
                if (nb201)
                    throw new InputException("--profile imagenet transfers a DARTS-space cell to the ImageNet network; NAS-Bench-201 cells build only their own network: use --profile nb201");
                // The cell is selected by perturbation: at this budget those cells retrain better than α's (docs/transfer.md).
                var s = Search("cpu", "darts", CellSelection.Perturbation);
                if (inputs.ImageNet is not null)
                {
                    var imagenet = OpenBoth(DatasetRef.Resolve("imagenet", inputs.DataRoot, inputs.ImageNet));
                    var full = TrainPresets.Create("paper-imagenet", NetworkKind.ImageNet);
                    return new("imagenet", s, Runtime(full, imagenet), imagenet, inputs.GateTop1 ?? 100 - 23.9 - PaperMargin, inputs.GateTop5 ?? 100 - 7.1 - PaperMargin);
                }
                var data = Transfer(inputs) ?? OpenBoth(DatasetRef.Resolve("imagenette", inputs.DataRoot));
                var t = Runtime(TrainPresets.Create("cpu", NetworkKind.ImageNet64) with { Epochs = ImagenetteEpochs }, data);
                return new("imagenet", s, t, data, inputs.GateTop1 ?? ImagenetteGateTop1, inputs.GateTop5 ?? ImagenetteGateTop5);
            }
            case "smoke":
            {
                var s = Search("smoke", "darts");
                if (nb201)
                {
                    var cifar = Transfer(inputs) ?? DatasetRef.Resolve("cifar10", inputs.DataRoot);
                    var small = TrainPresets.Create("smoke", NetworkKind.Nb201) with
                    {
                        Channels = 8, Layers = 1, AuxWeight = 0, DropPath = 0, Epochs = 3, BatchSize = 64, MaxTrainImages = 4096, MaxValidImages = 1000,
                        LearningRate = 0.1, Nesterov = true, WeightDecay = 5e-4, ImageSize = 32,
                    };
                    // The gates sit well under what a correct chain reaches and well over chance (10% / 50%), where a broken one (labels, preprocessing) stays.
                    return new("smoke", s, Runtime(small, cifar), cifar, inputs.GateTop1 ?? 20, inputs.GateTop5 ?? 60, ValidateMaxImages: 2000);
                }
                var data = Transfer(inputs) ?? OpenBoth(DatasetRef.Resolve("imagenette", inputs.DataRoot));
                var t = TrainPresets.Create("smoke", NetworkKind.ImageNet64) with
                {
                    Channels = 8, Layers = 3, Epochs = 4, BatchSize = 32, MaxTrainImages = 1600, MaxValidImages = 200, LearningRate = 0.1, Nesterov = true,
                    WarmupEpochs = 0, LabelSmoothing = 0.1, AuxWeight = 0.4, DropPath = 0.1, ColorJitter = 0, CropScaleMin = 0.25, Workers = 2,
                };
                // The transfer path at a tiny budget: a correct chain clears SmokeGate on 500 validation images, a broken one
                // stays near chance (10% / 50%).
                return new("smoke", s, Runtime(t, data), data, inputs.GateTop1 ?? SmokeGateTop1, inputs.GateTop5 ?? SmokeGateTop5, ValidateMaxImages: 500);
            }
            case "nb201":
            {
                if (inputs.Space is not null && !nb201)
                    throw new InputException($"--profile nb201 searches NAS-Bench-201 and retrains its network; for the DARTS-style space {inputs.Space} use --profile imagenet");
                var s = Search("cpu", "nas-bench-201");
                var data = Transfer(inputs) ?? DatasetRef.Resolve("cifar10", inputs.DataRoot);
                var t = TrainPresets.Create("cpu", NetworkKind.Nb201) with { Epochs = 5, ImageSize = 32 };
                return new("nb201", s, Runtime(t, data), data, inputs.GateTop1 ?? 70, inputs.GateTop5 ?? 93);
            }
            case "paper":
            {
                if (inputs.ImageNet is null)
                    throw new InputException("--profile paper retrains on ImageNet: pass --imagenet <folder with train/ and val/> (checked before the search starts)");
                var imagenet = OpenBoth(DatasetRef.Resolve("imagenet", inputs.DataRoot, inputs.ImageNet));
                if (nb201)
                    throw new InputException("--profile paper transfers a DARTS-space cell to ImageNet; --space nas-bench-201 cells do not build the ImageNet network");
                var s = Search("paper", "darts");
                var t = TrainPresets.Create("paper-imagenet", NetworkKind.ImageNet);
                return new("paper", s, Runtime(t, imagenet), imagenet, inputs.GateTop1 ?? 100 - 23.9 - PaperMargin, inputs.GateTop5 ?? 100 - 7.1 - PaperMargin);
            }
            default:
                throw new InputException($"--profile '{name}': expected one of {string.Join(", ", Names)}");
        }
    }

    /// <summary>
    /// The run name when --run is not given: the profile's, followed by what makes this chain another one than the
    /// profile's own (the full ImageNet, a --transfer folder, another search space or method), so that two different
    /// chains never share runs/&lt;run&gt; (where a changed configuration redoes, and so replaces, a stage) or models/&lt;run&gt;.
    /// </summary>
    public static string DefaultRun(PipelineProfile p, PipelineInputs inputs)
    {
        var parts = new List<string> { p.Name };
        if (inputs.ImageNet is not null && p.Name == "imagenet") parts.Add("224");
        if (inputs.Transfer is { } folder) parts.Add(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))));
        string ownSpace = p.Name == "nb201" ? SearchSpaces.Nb201.Name : SearchSpaces.Darts.Name;
        if (inputs.Space is not null && p.Search.Space != ownSpace) parts.Add(p.Search.Space);
        if (inputs.Method is { } m && m != SearchMethod.RfPcDarts) parts.Add(m.Name);
        string name = System.Text.RegularExpressions.Regex.Replace(string.Join("-", parts), "[^A-Za-z0-9._-]+", "-");
        return name.TrimStart('.');
    }

    /// <summary>The smoke chain's gates on 500 Imagenette validation images (docs/benchmarks.md, "Deploy").</summary>
    public const double SmokeGateTop1 = 18, SmokeGateTop5 = 60;

    /// <summary>Opens both splits now, so a missing or malformed dataset is reported before the search starts.</summary>
    private static DatasetRef OpenBoth(DatasetRef d)
    {
        d.Open(Split.Train);
        d.Open(Split.Test);
        return d;
    }

}
