using SearchToDeploy.Data;

namespace SearchToDeploy.Tests.Data;

/// <summary>SVHN *_32x32.mat files written by SciPy (see Fixtures/make_fixtures.py): uncompressed v5 and zlib-compressed v7.</summary>
public sealed class SvhnTests
{
    // The fixture's X(row, col, channel, image) = (row*7 + col*3 + channel*50 + image*11) % 256; y = 1, 10, 3, 10, 5.
    private static byte Expected(int row, int col, int ch, int img) => (byte)((row * 7 + col * 3 + ch * 50 + img * 11) % 256);

    [Theory]
    [InlineData("svhn_small_v5.mat")]
    [InlineData("svhn_small_v7_compressed.mat")]
    public void Reads_images_and_maps_label_10_to_digit_0(string file)
    {
        var ds = Svhn.Read(TestPaths.Fixture(file));
        Assert.Equal(5, ds.Count);
        Assert.Equal([1, 0, 3, 0, 5], Enumerable.Range(0, 5).Select(ds.LabelOf));
        Assert.Equal(10, ds.Classes.Count);
        for (int img = 0; img < 5; img++)
        {
            var image = ds.Load(img);
            foreach (var (row, col) in new[] { (0, 0), (0, 31), (31, 0), (5, 17), (31, 31) })
                Assert.Equal((Expected(row, col, 0, img), Expected(row, col, 1, img), Expected(row, col, 2, img)), image[row, col]);
        }
    }

    [Fact]
    public void Truncated_mat_file_is_refused()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(TestPaths.Fixture("svhn_small_v5.mat"));
        File.WriteAllBytes(dir["train_32x32.mat"], bytes[..^200]);
        var e = Assert.Throws<DatasetFormatException>(() => Svhn.Read(dir["train_32x32.mat"]));
        Assert.Contains("train_32x32.mat", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Hdf5_mat_file_and_foreign_file_are_refused()
    {
        using var dir = new TempDir();
        var header = new byte[512];
        System.Text.Encoding.ASCII.GetBytes("MATLAB 7.3 MAT-file, Platform: GLNXA64").CopyTo(header, 0);
        File.WriteAllBytes(dir["a.mat"], header);
        Assert.Contains("MATLAB 7.3 (HDF5)", Assert.Throws<DatasetFormatException>(() => Svhn.Read(dir["a.mat"])).Message);
        File.WriteAllText(dir["b.mat"], new string('z', 300));
        Assert.Contains("not a MATLAB level-5 MAT-file", Assert.Throws<DatasetFormatException>(() => Svhn.Read(dir["b.mat"])).Message);
        Assert.Throws<DatasetNotFoundException>(() => Svhn.Read(dir["missing.mat"]));
    }

    [Fact]
    public void Labels_outside_1_to_10_are_refused()
    {
        // The uncompressed fixture stores y as uint8 in the last element; the first label byte sits 8 bytes
        // before the five label bytes and their 3 padding bytes at the end of the file.
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(TestPaths.Fixture("svhn_small_v5.mat"));
        int firstLabel = bytes.Length - 8;
        Assert.Equal(1, bytes[firstLabel]);
        bytes[firstLabel] = 11;
        File.WriteAllBytes(dir["x.mat"], bytes);
        var e = Assert.Throws<DatasetFormatException>(() => Svhn.Read(dir["x.mat"]));
        Assert.Contains("label 0 is 11; expected an integer 1..10", e.Message);
    }
}
