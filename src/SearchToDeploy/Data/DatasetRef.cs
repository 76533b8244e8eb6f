using SearchToDeploy.Data.Download;
using SearchToDeploy.Data.Transforms;

namespace SearchToDeploy.Data;

/// <summary>
/// A dataset by name and location. CIFAR-10, CIFAR-100 and SVHN live in fixed folders of the data root
/// (cifar-10-batches-bin/, cifar-100-binary/, svhn/); ImageNet is a folder with train/ and val/ (the given path, else
/// &lt;root&gt;/imagenet); Imagenette is ImageNet's 10-class subset (the given path, else its folder under the root,
/// <see cref="Imagenette.Locate"/>); an image folder is any folder with train/ and val/ (or test/), or just class sub-folders.
/// </summary>
public sealed record DatasetRef(DatasetKind Kind, string Location, bool Coarse = false)
{
    public static readonly IReadOnlyList<string> Names = ["cifar10", "cifar100", "svhn", "imagenet", "imagefolder", "imagenette"];

    public string Name => Names[(int)Kind];

    /// <summary>The canonical name of a dataset name or alias (cifar-10 -> cifar10).</summary>
    public static string CanonicalName(string name) => Names[(int)ParseKind(name)];

    public static DatasetKind ParseKind(string name) => name.ToLowerInvariant() switch
    {
        "cifar10" or "cifar-10" => DatasetKind.Cifar10,
        "cifar100" or "cifar-100" => DatasetKind.Cifar100,
        "svhn" => DatasetKind.Svhn,
        "imagenet" => DatasetKind.ImageNet,
        "imagefolder" => DatasetKind.ImageFolder,
        "imagenette" => DatasetKind.Imagenette,
        _ => throw new InputException($"--dataset '{name}': unknown dataset; expected one of {string.Join(", ", Names)}"),
    };

    /// <summary>
    /// A folder a run's settings recorded for <paramref name="dataset"/>, as a resume passes it back: none for the datasets
    /// read from the data root (runs of earlier builds recorded a --data that did nothing there).
    /// </summary>
    public static string? SavedPath(string dataset, string? path) => IsReadFromRoot(ParseKind(dataset)) ? null : path;

    /// <summary>The small-image datasets (CIFAR, SVHN): read from their folder under the data root, never from --data.</summary>
    private static bool IsReadFromRoot(DatasetKind kind) => kind is DatasetKind.Cifar10 or DatasetKind.Cifar100 or DatasetKind.Svhn;

    /// <param name="path">The dataset folder for imagenet/imagefolder (required for imagefolder).</param>
    public static DatasetRef Resolve(string name, string dataRoot, string? path = null, bool coarse = false)
    {
        var kind = ParseKind(name);
        if (coarse && kind != DatasetKind.Cifar100) throw new InputException("--coarse-labels applies to cifar100 only");
        if (path is not null && IsReadFromRoot(kind))
            throw new InputException($"--data {path}: applies to imagenet, imagenette and imagefolder; {name} is read from its folder under --data-root");
        string location = kind switch
        {
            DatasetKind.Cifar10 => Path.Combine(dataRoot, CifarLayout.Cifar10.Folder),
            DatasetKind.Cifar100 => Path.Combine(dataRoot, CifarLayout.Cifar100.Folder),
            DatasetKind.Svhn => Path.Combine(dataRoot, Svhn.Folder),
            DatasetKind.ImageNet => Path.GetFullPath(path ?? Path.Combine(dataRoot, "imagenet")),
            DatasetKind.Imagenette => Path.GetFullPath(path ?? Imagenette.Locate(dataRoot)),
            _ => Path.GetFullPath(path ?? throw new InputException("--dataset imagefolder needs --data <folder> (class sub-folders, or train/ and val/)")),
        };
        return new DatasetRef(kind, location, coarse);
    }

    public Normalization Normalization => Kind switch
    {
        DatasetKind.Cifar10 => Normalization.Cifar10,
        DatasetKind.Cifar100 => Normalization.Cifar100,
        DatasetKind.Svhn => Normalization.Svhn,
        _ => Normalization.ImageNet,
    };

    /// <summary>True for the fixed-size 32x32 datasets.</summary>
    public bool IsSmallImage => IsReadFromRoot(Kind);

    /// <summary>
    /// Whether the dataset is whole without <paramref name="split"/>: an image folder without a test split (it trains
    /// only), an ImageNet folder without train/ (it validates only, as the ImageNet sample does).
    /// </summary>
    public bool MayLack(Split split) => Kind == DatasetKind.ImageFolder && split == Split.Test || Kind == DatasetKind.ImageNet && split == Split.Train;

    public IImageDataset Open(Split split) => Kind switch
    {
        DatasetKind.Cifar10 => CifarBinary.Read(CifarLayout.Cifar10, Location, split == Split.Train),
        DatasetKind.Cifar100 => CifarBinary.Read(CifarLayout.Cifar100, Location, split == Split.Train, Coarse),
        DatasetKind.Svhn => Svhn.Read(Path.Combine(Location, Svhn.FileFor(split == Split.Train ? "train" : "test"))),
        DatasetKind.ImageNet or DatasetKind.Imagenette => OpenImageNet(split),
        _ => ImageFolderDataset.Open(FolderFor(split)),
    };

    private IImageDataset OpenImageNet(Split split)
    {
        string sub = split == Split.Train ? "train" : "val";
        string dir = Path.Combine(Location, sub);
        if (!Directory.Exists(dir) && Kind == DatasetKind.Imagenette)
            throw new DatasetNotFoundException(
                $"{dir}: Imagenette {sub} folder not found. Expected {Location}/train/<wnid>/*.JPEG and {Location}/val/<wnid>/*.JPEG " +
                $"(10 class folders); `s2d data download --dataset imagenette` fetches the official archive into <data root>/{DownloadSpec.Imagenette.Target}, " +
                "or pass the folder with --data.");
        if (!Directory.Exists(dir))
            throw new DatasetNotFoundException(
                $"{dir}: ImageNet {sub} folder not found. ImageNet is never downloaded: expected {Location}/train/<wnid>/*.JPEG and " +
                $"{Location}/val/<wnid>/*.JPEG (1,000 class folders each, e.g. n01440764), optionally with synsets.txt beside them; " +
                "pass the folder with --imagenet/--data or put it at <data root>/imagenet.");
        return ImageFolderDataset.Open(dir);
    }

    /// <summary>An image folder's split: train/ and val/ (or test/) sub-folders, or the whole folder as the training set.</summary>
    public string FolderFor(Split split)
    {
        if (!Directory.Exists(Location))
            throw new DatasetNotFoundException($"{Location}: folder not found; {ImageFolderDataset.LayoutHelp(Location)}");
        string train = Path.Combine(Location, "train");
        string? eval = new[] { "val", "test" }.Select(n => Path.Combine(Location, n)).FirstOrDefault(Directory.Exists);
        if (split == Split.Train)
        {
            if (Directory.Exists(train)) return train;
            if (eval is not null)
                throw new DatasetNotFoundException($"{Location}: has {Path.GetFileName(eval)}/ but no train/ folder; {ImageFolderDataset.LayoutHelp(Location)}");
            return Location;
        }
        return eval ?? throw new DatasetNotFoundException(
            $"{Location}: no val/ or test/ folder for evaluation; {ImageFolderDataset.LayoutHelp(Location)}");
    }
}
