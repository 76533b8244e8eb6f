namespace SearchToDeploy.Data.Download;

/// <summary>
/// What to fetch for a dataset and where it ends up under the data root: either a .tar.gz whose top folder
/// <see cref="Target"/> is extracted, or plain files placed in the folder <see cref="Target"/>. <see cref="Finish"/>
/// checks (and completes) an extracted folder before it is moved into place; it throws to refuse it. <see cref="Expected"/>
/// names what a complete extracted folder holds (files or folders, relative to it), so that a folder a manual, interrupted
/// extraction left is not taken for the dataset; <see cref="Problems"/> checks the rest of a complete folder (the files
/// in folders that exist from the first one an extraction writes), for a fresh extraction and a folder found in place.
/// </summary>
public sealed record DownloadSpec(string Dataset, string Target, IReadOnlyList<RemoteFile> Files, bool IsTarGz, Action<string>? Finish = null,
    IReadOnlyList<string>? Expected = null, Func<string, IReadOnlyList<string>>? Problems = null)
{
    public static readonly DownloadSpec Cifar10 = new("cifar10", "cifar-10-batches-bin",
        [new("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz", "cifar-10-binary.tar.gz", "c32a1d4ab5d03f1284b67883e8d87530")],
        IsTarGz: true, Expected: CifarFiles(CifarLayout.Cifar10));

    public static readonly DownloadSpec Cifar100 = new("cifar100", "cifar-100-binary",
        [new("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz", "cifar-100-binary.tar.gz", "03b5dce01913d631647c71ecec9e9cb8")],
        IsTarGz: true, Expected: CifarFiles(CifarLayout.Cifar100));

    /// <summary>SVHN train and test (the 531k-image "extra" split is left out: 1.3 GB).</summary>
    public static readonly DownloadSpec Svhn = new("svhn", "svhn",
        [
            new("http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373"),
            new("http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3"),
        ],
        IsTarGz: false);

    /// <summary>Imagenette at 160 px (the official archive; 94 MB): its file counts are checked against the published split
    /// and a synsets.txt with the class names is added.</summary>
    public static readonly DownloadSpec Imagenette = new("imagenette", "imagenette2-160",
        [new("https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz", "imagenette2-160.tgz", "e793b78cc4c9e9a4ccc0c1155377a412")],
        IsTarGz: true, Finish: folder => File.WriteAllText(Path.Combine(folder, "synsets.txt"), Data.Imagenette.SynsetsText),
        Expected: ["train", "val"], Problems: Data.Imagenette.CompareWithOfficial); // synsets.txt is optional (names; a manual extraction lacks it)

    private static string[] CifarFiles(CifarLayout l) =>
        [.. l.TrainFiles.Concat(l.TestFiles).Select(f => f.Name), l.FineNamesFile, .. l.CoarseNamesFile is { } c ? new[] { c } : []];

    /// <summary>What <see cref="Expected"/> names that <paramref name="folder"/> lacks.</summary>
    public IReadOnlyList<string> MissingFrom(string folder) =>
        [.. (Expected ?? []).Where(e => !File.Exists(Path.Combine(folder, e)) && !Directory.Exists(Path.Combine(folder, e)))];

    public static DownloadSpec? For(string dataset) => dataset switch
    {
        "cifar10" => Cifar10,
        "cifar100" => Cifar100,
        "svhn" => Svhn,
        "imagenette" => Imagenette,
        _ => null,
    };
}
