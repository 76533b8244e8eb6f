namespace SearchToDeploy.Data;

/// <summary>
/// The layout of a CIFAR binary distribution (cifar-10-binary.tar.gz / cifar-100-binary.tar.gz): a record is
/// label byte(s) followed by 1024 R, 1024 G and 1024 B bytes of a 32x32 image, planes row-major.
/// </summary>
public sealed record CifarLayout(
    string DatasetName,
    string Folder,
    int LabelBytes,
    IReadOnlyList<CifarFile> TrainFiles,
    IReadOnlyList<CifarFile> TestFiles,
    string FineNamesFile,
    string? CoarseNamesFile,
    int FineClasses,
    int CoarseClasses)
{
    public const int ImageBytes = 32 * 32 * 3;
    public int RecordBytes => LabelBytes + ImageBytes;

    public static readonly CifarLayout Cifar10 = new(
        "cifar10", "cifar-10-batches-bin", 1,
        [.. Enumerable.Range(1, 5).Select(i => new CifarFile($"data_batch_{i}.bin", 10_000))],
        [new CifarFile("test_batch.bin", 10_000)],
        "batches.meta.txt", null, 10, 0);

    /// <summary>CIFAR-100: each record holds a coarse (20 superclasses) and then a fine (100 classes) label byte.</summary>
    public static readonly CifarLayout Cifar100 = new(
        "cifar100", "cifar-100-binary", 2,
        [new CifarFile("train.bin", 50_000)],
        [new CifarFile("test.bin", 10_000)],
        "fine_label_names.txt", "coarse_label_names.txt", 100, 20);

    /// <summary>The same layout with other record counts (for small files written in the real format).</summary>
    public CifarLayout WithRecords(int trainPerFile, int testPerFile) => this with
    {
        TrainFiles = [.. TrainFiles.Select(f => f with { Records = trainPerFile })],
        TestFiles = [.. TestFiles.Select(f => f with { Records = testPerFile })],
    };
}
