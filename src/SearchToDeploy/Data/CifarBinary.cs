namespace SearchToDeploy.Data;

/// <summary>Reads CIFAR-10 and CIFAR-100 official binary files with strict validation.</summary>
public static class CifarBinary
{
    /// <param name="folder">The extracted folder, e.g. &lt;data root&gt;/cifar-10-batches-bin.</param>
    /// <param name="coarse">CIFAR-100 only: use the 20 coarse labels instead of the 100 fine ones.</param>
    public static InMemoryImageDataset Read(CifarLayout layout, string folder, bool train, bool coarse = false)
    {
        if (coarse && layout.CoarseNamesFile is null)
            throw new InputException($"{layout.DatasetName} has no coarse labels; only CIFAR-100 does");
        if (!Directory.Exists(folder))
            throw new DatasetNotFoundException(
                $"{folder}: folder not found; expected the extracted official {layout.DatasetName} binary files " +
                $"({string.Join(", ", layout.TrainFiles.Concat(layout.TestFiles).Select(f => f.Name))}). " +
                $"Run `s2d data download --dataset {layout.DatasetName}` or copy them there.");

        var files = train ? layout.TrainFiles : layout.TestFiles;
        int classCount = coarse ? layout.CoarseClasses : layout.FineClasses;
        // CIFAR-100 records are <coarse><fine><pixels>; CIFAR-10 records are <label><pixels>.
        int labelIndex = layout.LabelBytes == 2 && !coarse ? 1 : 0;
        long total = files.Sum(f => (long)f.Records);
        var pixels = new byte[total * CifarLayout.ImageBytes];
        var labels = new byte[total];
        int at = 0;
        foreach (var file in files)
        {
            string path = Path.Combine(folder, file.Name);
            byte[] raw = ReadChecked(path, file.Records, layout.RecordBytes);
            for (int r = 0; r < file.Records; r++, at++)
            {
                int rec = r * layout.RecordBytes;
                byte label = raw[rec + labelIndex];
                if (label >= classCount)
                    throw new DatasetFormatException(
                        $"{path}: record {r} has label {label}; expected 0..{classCount - 1}");
                labels[at] = label;
                ToInterleaved(raw.AsSpan(rec + layout.LabelBytes, CifarLayout.ImageBytes),
                    pixels.AsSpan(at * CifarLayout.ImageBytes, CifarLayout.ImageBytes));
            }
        }

        string namesPath = Path.Combine(folder, coarse ? layout.CoarseNamesFile! : layout.FineNamesFile);
        var classes = ReadClassNames(namesPath, classCount);
        return new InMemoryImageDataset(folder, pixels, labels, 32, 32, classes);
    }

    private static byte[] ReadChecked(string path, int records, int recordBytes)
    {
        if (!File.Exists(path))
            throw new DatasetNotFoundException($"{path}: file not found; expected {records} records of {recordBytes} bytes");
        long expected = (long)records * recordBytes;
        long length = new FileInfo(path).Length;
        if (length != expected)
        {
            string what = length % recordBytes != 0
                ? $"{length} bytes is not a whole number of {recordBytes}-byte records (truncated or corrupt)"
                : $"holds {length / recordBytes} records";
            throw new DatasetFormatException($"{path}: {what}; expected {records} records of {recordBytes} bytes = {expected} bytes");
        }
        return File.ReadAllBytes(path);
    }

    /// <summary>Planar RRR..GGG..BBB (1024 each) to interleaved RGBRGB...</summary>
    internal static void ToInterleaved(ReadOnlySpan<byte> planar, Span<byte> hwc)
    {
        var r = planar[..1024];
        var g = planar.Slice(1024, 1024);
        var b = planar.Slice(2048, 1024);
        for (int i = 0; i < 1024; i++)
        {
            hwc[3 * i] = r[i];
            hwc[3 * i + 1] = g[i];
            hwc[3 * i + 2] = b[i];
        }
    }

    private static List<string> ReadClassNames(string path, int classCount)
    {
        if (!File.Exists(path))
            throw new DatasetNotFoundException($"{path}: file not found; expected {classCount} class names, one per line");
        var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        if (names.Count != classCount)
            throw new DatasetFormatException($"{path}: {names.Count} class names; expected {classCount}, one per line");
        return names;
    }
}
