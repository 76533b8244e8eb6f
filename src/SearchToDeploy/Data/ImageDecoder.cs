using SkiaSharp;

namespace SearchToDeploy.Data;

/// <summary>
/// Decodes JPEG, PNG (and BMP, GIF, WebP) to 8-bit RGB with SkiaSharp; grayscale, CMYK and alpha become RGB. Given the
/// size its user needs (<c>fitSide</c>), a large image is decoded smaller: formats the codec scales while decoding (JPEG,
/// WebP) at the codec's scale, others (PNG: this Skia cannot decode it by rows) into native memory that is freed as
/// soon as whole blocks of pixels are averaged out of it, so no full-size managed array is left for the collector.
/// </summary>
public static class ImageDecoder
{
    /// <summary>The pixel limit (by the header, before decoding) that serving and <c>s2d predict</c> apply to images from outside.</summary>
    public const long DefaultMaxPixels = 40_000_000;

    /// <summary>
    /// The limit for dataset files (a user's own images, read by training and <c>data verify</c>): far above any photo,
    /// below what the decoder's buffer sizes can hold, so a giant file is one named bad image, not a crash.
    /// </summary>
    public const long DatasetMaxPixels = 250_000_000;

    public static RgbImage DecodeFile(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new DatasetNotFoundException($"{path}: image file not found"); }
        catch (DirectoryNotFoundException) { throw new DatasetNotFoundException($"{path}: image file not found"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ImageDecodeException(path, $"not readable ({e.Message})"); }
        return Decode(bytes, path, DatasetMaxPixels);
    }

    /// <summary>The image's size from its header, without decoding it; an error for bytes that are not an image.</summary>
    public static (int Width, int Height) ReadSize(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length == 0) throw new ImageDecodeException(name, "empty");
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data) ?? throw new ImageDecodeException(name, "not a recognised image format");
        return (codec.Info.Width, codec.Info.Height);
    }

    /// <param name="name">The file or request the bytes came from, for messages.</param>
    /// <param name="maxPixels">Refuse larger images (decompression bombs) before decoding them.</param>
    /// <param name="fitSide">
    /// The shorter side the caller needs (0: the full image). An image whose shorter side is at least twice that is
    /// decoded at a reduced size that keeps the shorter side at least <c>2 · fitSide</c>.
    /// </param>
    /// <param name="orient">
    /// Turn the pixels upright by the image's EXIF orientation (photos from phones and cameras), as viewers show them.
    /// Datasets, validation, predict and serving all read images this way, so the gate measures the pixels a served
    /// model sees (torchvision's ImageFolder does not turn them; ImageNet's and Imagenette's files carry no turn).
    /// </param>
    public static RgbImage Decode(ReadOnlySpan<byte> bytes, string name, long maxPixels = long.MaxValue, int fitSide = 0, bool orient = true)
    {
        if (bytes.Length == 0) throw new ImageDecodeException(name, "empty");
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null) throw new ImageDecodeException(name, "not a recognised image format");
        var origin = orient ? codec.EncodedOrigin : SKEncodedOrigin.TopLeft;
        var image = DecodeStored(codec, name, maxPixels, fitSide);
        return origin == SKEncodedOrigin.TopLeft ? image : Orient(image, origin);
    }

    /// <summary>
    /// The image as a viewer shows it given its EXIF origin: the stored pixel at (x, y) goes where the origin says
    /// (mirrored and/or turned by a multiple of 90 degrees).
    /// </summary>
    public static RgbImage Orient(RgbImage image, SKEncodedOrigin origin)
    {
        int w = image.Width, h = image.Height;
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int ow = swap ? h : w, oh = swap ? w : h;
        var src = image.Pixels;
        var rgb = new byte[ow * oh * 3];
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                // The stored pixel shown at (x, y).
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                src.Slice((sy * w + sx) * 3, 3).CopyTo(rgb.AsSpan((y * ow + x) * 3, 3));
            }
        return new RgbImage(rgb, ow, oh);
    }

    private static RgbImage DecodeStored(SKCodec codec, string name, long maxPixels, int fitSide)
    {
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0) throw new ImageDecodeException(name, $"image size {info.Width}x{info.Height}");
        if ((long)info.Width * info.Height > maxPixels)
            throw new ImageTooLargeException(name, $"{info.Width}x{info.Height} pixels is over the limit of {maxPixels:N0}");
        int factor = fitSide > 0 ? Math.Max(1, Math.Min(info.Width, info.Height) / (2 * fitSide)) : 1;
        if (factor > 1)
        {
            // The codec's own scaling (JPEG's DCT, WebP): the smallest size it offers that keeps the needed side.
            var scaled = codec.GetScaledDimensions(1f / factor);
            if (scaled.Width < info.Width && Math.Min(scaled.Width, scaled.Height) >= 2 * fitSide)
                return DecodeWhole(codec, name, scaled.Width, scaled.Height);
            return DecodeReduced(codec, name, factor);
        }
        return DecodeWhole(codec, name, info.Width, info.Height);
    }

    /// <summary>The whole image at width x height (the codec's size or one of its scaled sizes).</summary>
    private static RgbImage DecodeWhole(SKCodec codec, string name, int width, int height)
    {
        // Unpremultiplied RGBA: alpha is dropped below, as PIL's convert("RGB") does.
        var target = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = ScratchBuffers<byte>.Rent(target.BytesSize);
        try
        {
            SKCodecResult result;
            unsafe
            {
                fixed (byte* p = rgba) result = codec.GetPixels(target, (IntPtr)p);
            }
            if (result == SKCodecResult.IncompleteInput) throw new ImageDecodeException(name, "truncated image data");
            if (result != SKCodecResult.Success) throw new ImageDecodeException(name, result.ToString());
            int n = width * height;
            var rgb = new byte[n * 3];
            for (int i = 0; i < n; i++)
            {
                rgb[3 * i] = rgba[4 * i];
                rgb[3 * i + 1] = rgba[4 * i + 1];
                rgb[3 * i + 2] = rgba[4 * i + 2];
            }
            return new RgbImage(rgb, width, height);
        }
        finally
        {
            ScratchBuffers<byte>.Return(rgba);
        }
    }

    /// <summary>
    /// The image reduced <paramref name="factor"/> times: decoded whole into native memory (freed before this returns),
    /// each factor x factor block averaged into the result.
    /// </summary>
    private static unsafe RgbImage DecodeReduced(SKCodec codec, string name, int factor)
    {
        var info = codec.Info;
        var target = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        byte* rgba = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)target.BytesSize64);
        try
        {
            var result = codec.GetPixels(target, (IntPtr)rgba);
            if (result == SKCodecResult.IncompleteInput) throw new ImageDecodeException(name, "truncated image data");
            if (result != SKCodecResult.Success) throw new ImageDecodeException(name, result.ToString());
            int ow = info.Width / factor, oh = info.Height / factor, area = factor * factor;
            var rgb = new byte[ow * oh * 3];
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int r = 0, g = 0, b = 0;
                    for (int dy = 0; dy < factor; dy++)
                    {
                        byte* row = rgba + ((long)(oy * factor + dy) * info.Width + ox * factor) * 4;
                        for (int dx = 0; dx < factor; dx++) { r += row[4 * dx]; g += row[4 * dx + 1]; b += row[4 * dx + 2]; }
                    }
                    int o = (oy * ow + ox) * 3;
                    rgb[o] = (byte)((r + area / 2) / area);
                    rgb[o + 1] = (byte)((g + area / 2) / area);
                    rgb[o + 2] = (byte)((b + area / 2) / area);
                }
            return new RgbImage(rgb, ow, oh);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(rgba);
        }
    }
}
