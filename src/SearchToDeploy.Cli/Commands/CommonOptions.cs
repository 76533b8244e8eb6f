using System.CommandLine;
using SearchToDeploy.Data;

namespace SearchToDeploy.Cli.Commands;

/// <summary>Options shared by several commands, so each is spelled and described once.</summary>
public static class CommonOptions
{
    public static Option<string?> DataRoot() => new("--data-root")
    {
        Description = $"Folder holding the datasets (default: ${DataRoot_Env}, else ./data)",
    };

    private const string DataRoot_Env = Data.DataRoot.EnvironmentVariable;

    public static Option<string> Dataset(bool required = true) => new("--dataset")
    {
        Description = $"Dataset: {string.Join(", ", DatasetRef.Names)}",
        Required = required,
    };

    public static Option<string?> DataPath() => new("--data")
    {
        Description = "Dataset folder for imagenet (train/ and val/) or imagefolder (class sub-folders, or train/ and val/)",
    };

    public static Option<bool> CoarseLabels() => new("--coarse-labels")
    {
        Description = "CIFAR-100: use the 20 coarse labels instead of the 100 fine ones",
    };

    /// <summary>Resolves --dataset/--data-root/--data/--coarse-labels to a dataset.</summary>
    public static DatasetRef ResolveDataset(ParseResult r, Option<string> dataset, Option<string?> root, Option<string?> path,
        Option<bool> coarse) =>
        DatasetRef.Resolve(r.GetValue(dataset)!, Data.DataRoot.Resolve(r.GetValue(root)), r.GetValue(path), r.GetValue(coarse));
}
