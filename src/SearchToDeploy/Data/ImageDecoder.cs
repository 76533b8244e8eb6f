using System.Buffers;
using SkiaSharp;

namespace SearchToDeploy.Data;

/// <summary>Decodes JPEG, PNG (and BMP, GIF, WebP) to 8-bit RGB with SkiaSharp; grayscale, CMYK and alpha become RGB.</summary>
public static class ImageDecoder
{
    public static RgbImage DecodeFile(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (FileNotFoundException) { throw new DatasetNotFoundException($"{path}: image file not found"); }
        catch (DirectoryNotFoundException) { throw new DatasetNotFoundException($"{path}: image file not found"); }
        return Decode(bytes, path);
    }

    /// <param name="name">The file or request the bytes came from, for messages.</param>
    /// <param name="maxPixels">Refuse larger images (decompression bombs) before decoding them.</param>
    public static RgbImage Decode(ReadOnlySpan<byte> bytes, string name, long maxPixels = long.MaxValue)
    {
        if (bytes.Length == 0) throw new ImageDecodeException(name, "empty");
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null) throw new ImageDecodeException(name, "not a recognised image format");
        var info = codec.Info;
        if (info.Width <= 0 || info.Height <= 0) throw new ImageDecodeException(name, $"image size {info.Width}x{info.Height}");
        if ((long)info.Width * info.Height > maxPixels)
            throw new ImageDecodeException(name, $"{info.Width}x{info.Height} pixels is over the limit of {maxPixels:N0}");
        // Unpremultiplied RGBA: alpha is dropped below, as PIL's convert("RGB") does.
        var target = new SKImageInfo(info.Width, info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        // The RGBA scratch buffer is pooled: large images would otherwise churn the large-object heap.
        var rgba = ArrayPool<byte>.Shared.Rent(target.BytesSize);
        try
        {
            SKCodecResult result;
            unsafe
            {
                fixed (byte* p = rgba) result = codec.GetPixels(target, (IntPtr)p);
            }
            if (result == SKCodecResult.IncompleteInput) throw new ImageDecodeException(name, "truncated image data");
            if (result != SKCodecResult.Success) throw new ImageDecodeException(name, result.ToString());
            int n = info.Width * info.Height;
            var rgb = new byte[n * 3];
            for (int i = 0; i < n; i++)
            {
                rgb[3 * i] = rgba[4 * i];
                rgb[3 * i + 1] = rgba[4 * i + 1];
                rgb[3 * i + 2] = rgba[4 * i + 2];
            }
            return new RgbImage(rgb, info.Width, info.Height);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgba);
        }
    }
}
