using SearchToDeploy.Data;

namespace SearchToDeploy.Tests.Data;

/// <summary>Reads the full real CIFAR-10 once for the tests that need it.</summary>
public sealed class Cifar10Fixture
{
    public Cifar10Fixture()
    {
        Train = CifarBinary.Read(CifarLayout.Cifar10, TestPaths.Cifar10, train: true);
        Test = CifarBinary.Read(CifarLayout.Cifar10, TestPaths.Cifar10, train: false);
    }

    public InMemoryImageDataset Train { get; }
    public InMemoryImageDataset Test { get; }
}

public sealed class CifarTests(Cifar10Fixture cifar) : IClassFixture<Cifar10Fixture>
{
    [Fact]
    public void Cifar10_has_50000_train_and_10000_test_records_with_1000_test_images_per_class()
    {
        Assert.Equal(50_000, cifar.Train.Count);
        Assert.Equal(10_000, cifar.Test.Count);
        Assert.All(cifar.Test.ClassCounts(), n => Assert.Equal(1000, n));
        Assert.All(cifar.Train.ClassCounts(), n => Assert.Equal(5000, n));
        Assert.Equal(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"], cifar.Test.Classes);
    }

    [Fact]
    public void First_test_image_is_a_cat_whose_first_pixel_is_158_112_49()
    {
        Assert.Equal("cat", cifar.Test.Classes[cifar.Test.LabelOf(0)]);
        var img = cifar.Test.Load(0);
        Assert.Equal((32, 32), (img.Width, img.Height));
        Assert.Equal(((byte)158, (byte)112, (byte)49), img[0, 0]);
        Assert.Equal("frog", cifar.Train.Classes[cifar.Train.LabelOf(0)]);
        Assert.Equal(((byte)59, (byte)62, (byte)63), cifar.Train.Load(0)[0, 0]);
    }

    [Fact]
    public void Cifar100_small_files_in_the_real_format_give_fine_and_coarse_labels()
    {
        using var dir = new TempDir();
        var layout = CifarLayout.Cifar100.WithRecords(trainPerFile: 3, testPerFile: 2);
        RealFormats.WriteCifar(dir["train.bin"], [[4, 99], [19, 0], [0, 50]], (r, i) => (byte)(r * 10 + i % 7));
        RealFormats.WriteCifar(dir["test.bin"], [[1, 2], [3, 4]], (r, i) => (byte)i);
        File.WriteAllLines(dir["fine_label_names.txt"], Enumerable.Range(0, 100).Select(i => $"fine{i}"));
        File.WriteAllLines(dir["coarse_label_names.txt"], Enumerable.Range(0, 20).Select(i => $"coarse{i}"));

        var fine = CifarBinary.Read(layout, dir.Path, train: true);
        Assert.Equal([99, 0, 50], Enumerable.Range(0, 3).Select(fine.LabelOf));
        Assert.Equal(100, fine.Classes.Count);
        Assert.Equal("fine99", fine.Classes[99]);
        var coarse = CifarBinary.Read(layout, dir.Path, train: true, coarse: true);
        Assert.Equal([4, 19, 0], Enumerable.Range(0, 3).Select(coarse.LabelOf));
        Assert.Equal(20, coarse.Classes.Count);
        // Pixel (0,1) of record 1: R plane byte 1 = 10 + 1, G plane byte 1025 % 7 = 3 -> 13, B byte 2049 % 7 = 5 -> 15.
        Assert.Equal(((byte)11, (byte)13, (byte)15), fine.Load(1)[0, 1]);
        Assert.Equal(2, CifarBinary.Read(layout, dir.Path, train: false).Count);
    }

    private static string WriteCifar10Folder(TempDir dir, int records, Action<string>? corrupt = null)
    {
        var layout = CifarLayout.Cifar10.WithRecords(records, records);
        foreach (var f in layout.TrainFiles.Concat(layout.TestFiles))
            RealFormats.WriteCifar(dir[f.Name], [.. Enumerable.Range(0, records).Select(r => new[] { (byte)(r % 10) })], (_, i) => (byte)i);
        File.WriteAllLines(dir["batches.meta.txt"], ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck", ""]);
        corrupt?.Invoke(dir["data_batch_3.bin"]);
        return dir.Path;
    }

    [Fact]
    public void Truncated_file_is_refused_naming_the_file_and_the_expected_size()
    {
        using var dir = new TempDir();
        WriteCifar10Folder(dir, 4, f => File.WriteAllBytes(f, File.ReadAllBytes(f)[..^100]));
        var e = Assert.Throws<DatasetFormatException>(() => CifarBinary.Read(CifarLayout.Cifar10.WithRecords(4, 4), dir.Path, true));
        Assert.Contains("data_batch_3.bin", e.Message);
        Assert.Contains("not a whole number of 3073-byte records", e.Message);
        Assert.Contains("expected 4 records", e.Message);
    }

    [Fact]
    public void Oversized_file_is_refused_with_its_record_count()
    {
        using var dir = new TempDir();
        WriteCifar10Folder(dir, 4, f => File.AppendAllText(f, new string('x', 3073)));
        var e = Assert.Throws<DatasetFormatException>(() => CifarBinary.Read(CifarLayout.Cifar10.WithRecords(4, 4), dir.Path, true));
        Assert.Contains("data_batch_3.bin: holds 5 records; expected 4", e.Message);
    }

    [Fact]
    public void Label_out_of_range_is_refused_naming_the_record()
    {
        using var dir = new TempDir();
        WriteCifar10Folder(dir, 4, f =>
        {
            var b = File.ReadAllBytes(f);
            b[2 * 3073] = 10;
            File.WriteAllBytes(f, b);
        });
        var e = Assert.Throws<DatasetFormatException>(() => CifarBinary.Read(CifarLayout.Cifar10.WithRecords(4, 4), dir.Path, true));
        Assert.Contains("data_batch_3.bin: record 2 has label 10; expected 0..9", e.Message);
    }

    [Fact]
    public void Missing_file_and_missing_folder_are_refused_with_what_to_do()
    {
        using var dir = new TempDir();
        WriteCifar10Folder(dir, 2, File.Delete);
        var e = Assert.Throws<DatasetNotFoundException>(() => CifarBinary.Read(CifarLayout.Cifar10.WithRecords(2, 2), dir.Path, true));
        Assert.Contains("data_batch_3.bin: file not found", e.Message);
        var e2 = Assert.Throws<DatasetNotFoundException>(() => CifarBinary.Read(CifarLayout.Cifar10, dir["nope"], true));
        Assert.Contains("s2d data download --dataset cifar10", e2.Message);
    }
}
