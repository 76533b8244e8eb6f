namespace SearchToDeploy.Data;

/// <summary>An 8-bit RGB image, interleaved row-major (HWC), possibly a view into a larger buffer.</summary>
public readonly struct RgbImage
{
    private readonly byte[] _buffer;
    private readonly int _offset;

    public RgbImage(byte[] buffer, int offset, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height}");
        if (offset < 0 || buffer.Length - offset < width * height * 3) throw new ArgumentException("buffer too small for the image", nameof(buffer));
        _buffer = buffer; _offset = offset; Width = width; Height = height;
    }

    public RgbImage(byte[] pixels, int width, int height) : this(pixels, 0, width, height) { }

    public int Width { get; }
    public int Height { get; }
    public ReadOnlySpan<byte> Pixels => _buffer.AsSpan(_offset, Width * Height * 3);

    /// <summary>The (r, g, b) value at row y, column x.</summary>
    public (byte R, byte G, byte B) this[int y, int x]
    {
        get
        {
            int i = _offset + (y * Width + x) * 3;
            return (_buffer[i], _buffer[i + 1], _buffer[i + 2]);
        }
    }
}
