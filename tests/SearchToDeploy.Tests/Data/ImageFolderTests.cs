using SearchToDeploy.Data;
using SkiaSharp;

namespace SearchToDeploy.Tests.Data;

public sealed class ImageFolderTests
{
    private static string SampleVal => Path.Combine(TestPaths.ImageNetSample, "val");

    [Fact]
    public void ImageNet_sample_has_1000_classes_indexed_by_sorted_folder_name_with_synset_names()
    {
        var ds = ImageFolderDataset.Open(SampleVal);
        Assert.Equal(1000, ds.Classes.Count);
        Assert.Equal(1000, ds.Count);
        Assert.Equal(ds.ClassIds.Order(StringComparer.Ordinal), ds.ClassIds);
        Assert.Equal("n01440764", ds.ClassIds[0]);
        Assert.Equal("tench, Tinca tinca", ds.Classes[0]);
        for (int i = 0; i < ds.Count; i++)
            Assert.Equal(ds.ClassIds[ds.LabelOf(i)], Path.GetFileName(Path.GetDirectoryName(ds.Describe(i))));
    }

    [Fact]
    public void Grayscale_jpegs_come_out_as_three_equal_channels()
    {
        // val_labels.tsv lists the colour mode of each image; 23 are single-channel ("L").
        var rows = File.ReadLines(Path.Combine(TestPaths.ImageNetSample, "val_labels.tsv")).Skip(1).Select(l => l.Split('\t')).ToList();
        int modeCol = Array.IndexOf(File.ReadLines(Path.Combine(TestPaths.ImageNetSample, "val_labels.tsv")).First().Split('\t'), "mode");
        var gray = rows.Where(r => r[modeCol] == "L").ToList();
        Assert.Equal(23, gray.Count);
        var ds = ImageFolderDataset.Open(SampleVal);
        foreach (var row in gray.Take(3))
        {
            int index = Enumerable.Range(0, ds.Count).First(i => ds.Describe(i).EndsWith(Path.GetFileName(row[3]), StringComparison.Ordinal));
            var img = ds.Load(index);
            Assert.Equal(img.Width * img.Height * 3, img.Pixels.Length);
            bool anyNonZero = false;
            for (int y = 0; y < img.Height; y += 7)
                for (int x = 0; x < img.Width; x += 7)
                {
                    var (r, g, b) = img[y, x];
                    Assert.True(r == g && g == b, $"pixel ({y},{x}) of a grayscale image is ({r},{g},{b})");
                    anyNonZero |= r != 0;
                }
            Assert.True(anyNonZero);
        }
    }

    [Fact]
    public void Png_with_alpha_and_jpeg_decode_to_rgb()
    {
        using var dir = new TempDir();
        RealFormats.WriteImage(dir["a/x.png"], 5, 4, new SKColor(10, 200, 30, 128), SKEncodedImageFormat.Png);
        RealFormats.WriteImage(dir["b/y.jpg"], 8, 8, new SKColor(250, 0, 0));
        var ds = ImageFolderDataset.Open(dir.Path);
        Assert.Equal(["a", "b"], ds.Classes);
        var png = ds.Load(0);
        Assert.Equal((5, 4), (png.Width, png.Height));
        Assert.Equal(((byte)10, (byte)200, (byte)30), png[2, 2]);
        var (r, g, b) = ds.Load(1)[4, 4];
        Assert.InRange(r, 240, 255);
        Assert.InRange(g, 0, 10);
        Assert.InRange(b, 0, 10);
    }

    [Fact]
    public void Empty_class_folder_is_refused_naming_the_folder()
    {
        using var dir = new TempDir();
        RealFormats.WriteImageFolder(dir.Path, ["cat", "dog"], 1);
        Directory.CreateDirectory(dir["emu"]);
        File.WriteAllText(dir["emu/notes.txt"], "not an image");
        var e = Assert.Throws<DatasetFormatException>(() => ImageFolderDataset.Open(dir.Path));
        Assert.Contains("emu: empty class folder", e.Message);
    }

    [Fact]
    public void Undecodable_image_raises_an_error_naming_the_file()
    {
        using var dir = new TempDir();
        RealFormats.WriteImageFolder(dir.Path, ["cat"], 1);
        File.WriteAllBytes(dir["cat/broken.jpg"], [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4]);
        var ds = ImageFolderDataset.Open(dir.Path);
        int broken = Enumerable.Range(0, ds.Count).Single(i => ds.Describe(i).EndsWith("broken.jpg", StringComparison.Ordinal));
        var e = Assert.Throws<ImageDecodeException>(() => ds.Load(broken));
        Assert.Contains("broken.jpg: cannot decode image", e.Message);

        // A file whose header claims 20000x20000 pixels is one named bad image too, not an overflow in the decoder.
        File.WriteAllBytes(dir["cat/giant.png"], SearchToDeploy.Tests.Deploy.DeploymentTests.PngHeader(20000, 20000));
        ds = ImageFolderDataset.Open(dir.Path);
        int giant = Enumerable.Range(0, ds.Count).Single(i => ds.Describe(i).EndsWith("giant.png", StringComparison.Ordinal));
        Assert.Contains("giant.png: cannot decode image (20000x20000", Assert.Throws<ImageTooLargeException>(() => ds.Load(giant)).Message);
    }

    [Fact]
    public void Missing_folder_and_imagenet_without_train_get_layout_messages()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DatasetNotFoundException>(() => ImageFolderDataset.Open(dir["none"]));
        Assert.Contains("<class>/<image>", e.Message);
        var imagenet = DatasetRef.Resolve("imagenet", dir.Path, dir["imagenet"]);
        var e2 = Assert.Throws<DatasetNotFoundException>(() => imagenet.Open(Split.Train));
        Assert.Contains("ImageNet is never downloaded", e2.Message);
        Assert.Contains("train/<wnid>", e2.Message);
    }
}
