namespace SearchToDeploy.Data;

/// <summary>
/// SVHN cropped digits, official *_32x32.mat files: X is 32x32x3xN uint8 (MATLAB column-major), y is N labels
/// 1..10 where 10 means the digit 0. Labels come out as 0..9 = the digit.
/// </summary>
public static class Svhn
{
    public const string Folder = "svhn";
    public static readonly IReadOnlyList<string> Classes = [.. Enumerable.Range(0, 10).Select(d => d.ToString())];

    public static string FileFor(string split) => split switch
    {
        "train" or "test" or "extra" => $"{split}_32x32.mat",
        _ => throw new InputException($"SVHN split '{split}'; expected train, test or extra"),
    };

    public static InMemoryImageDataset Read(string path)
    {
        if (!File.Exists(path))
            throw new DatasetNotFoundException(
                $"{path}: file not found; expected the official SVHN cropped-digits file (X: 32x32x3xN uint8, y: N labels 1..10). " +
                "Run `s2d data download --dataset svhn` or copy it there.");
        var vars = MatFile.Read(path, ["X", "y"]);
        if (!vars.TryGetValue("X", out var x)) throw new DatasetFormatException($"{path}: no variable 'X'; expected X (32x32x3xN uint8) and y");
        if (!vars.TryGetValue("y", out var y)) throw new DatasetFormatException($"{path}: no variable 'y'; expected X and y (N labels 1..10)");
        if (x.Dims.Length != 4 || x.Dims[0] != 32 || x.Dims[1] != 32 || x.Dims[2] != 3)
            throw new DatasetFormatException($"{path}: X has dimensions [{string.Join("x", x.Dims)}]; expected 32x32x3xN");
        int n = x.Dims[3];
        if (y.Length != n)
            throw new DatasetFormatException($"{path}: y has {y.Length} labels; expected {n}, one per image in X");

        var labels = new byte[n];
        for (int i = 0; i < n; i++)
        {
            double v = y[i];
            if (v < 1 || v > 10 || v != Math.Floor(v))
                throw new DatasetFormatException($"{path}: label {i} is {v}; expected an integer 1..10 (10 = digit 0)");
            labels[i] = (byte)(v == 10 ? 0 : v);
        }

        byte[] src = x.ToBytes(path);
        var pixels = new byte[(long)n * 3072];
        // MATLAB order: X(row, col, channel, image) at row + 32*col + 1024*channel + 3072*image.
        for (int img = 0; img < n; img++)
        {
            int s = img * 3072, d = img * 3072;
            for (int row = 0; row < 32; row++)
                for (int col = 0; col < 32; col++)
                {
                    int o = d + (row * 32 + col) * 3, i = s + row + 32 * col;
                    pixels[o] = src[i];
                    pixels[o + 1] = src[i + 1024];
                    pixels[o + 2] = src[i + 2048];
                }
        }
        return new InMemoryImageDataset(path, pixels, labels, 32, 32, Classes);
    }
}
