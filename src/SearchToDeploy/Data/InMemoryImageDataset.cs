namespace SearchToDeploy.Data;

/// <summary>Fixed-size images held in one buffer (CIFAR, SVHN): HWC RGB, image i at i * H * W * 3.</summary>
public sealed class InMemoryImageDataset : IImageDataset
{
    private readonly byte[] _pixels;
    private readonly byte[] _labels;

    public InMemoryImageDataset(string source, byte[] pixels, byte[] labels, int width, int height, IReadOnlyList<string> classes)
    {
        if (pixels.Length != (long)labels.Length * width * height * 3)
            throw new ArgumentException($"pixel buffer of {pixels.Length} bytes does not hold {labels.Length} images of {width}x{height}x3");
        Source = source; _pixels = pixels; _labels = labels; Width = width; Height = height; Classes = classes;
    }

    /// <summary>
    /// Seeded random images and labels (for benchmarks on a machine without the dataset: a step's time does not depend
    /// on the pixels).
    /// </summary>
    public static InMemoryImageDataset Noise(int count, int size, int classes, int seed)
    {
        var rng = new Random(seed);
        var pixels = new byte[count * size * size * 3];
        rng.NextBytes(pixels);
        var labels = new byte[count];
        for (int i = 0; i < count; i++) labels[i] = (byte)rng.Next(classes);
        return new InMemoryImageDataset($"random {size}x{size} images", pixels, labels, size, size, [.. Enumerable.Range(0, classes).Select(c => $"class {c}")]);
    }

    public string Source { get; }
    public int Width { get; }
    public int Height { get; }
    public int Count => _labels.Length;
    public IReadOnlyList<string> Classes { get; }
    public int LabelOf(int index) => _labels[index];
    public RgbImage Load(int index) => new(_pixels, index * Width * Height * 3, Width, Height);
    public string Describe(int index) => $"{Source}[{index}]";
}
