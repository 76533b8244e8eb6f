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

    public string Source { get; }
    public int Width { get; }
    public int Height { get; }
    public int Count => _labels.Length;
    public IReadOnlyList<string> Classes { get; }
    public int LabelOf(int index) => _labels[index];
    public RgbImage Load(int index) => new(_pixels, index * Width * Height * 3, Width, Height);
    public string Describe(int index) => $"{Source}[{index}]";
}
