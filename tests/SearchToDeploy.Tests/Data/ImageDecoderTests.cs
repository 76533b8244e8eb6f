using SearchToDeploy.Data;
using SkiaSharp;

namespace SearchToDeploy.Tests.Data;

/// <summary>Large images are decoded at the size their user needs, without a full-size buffer.</summary>
public sealed class ImageDecoderTests
{
    private static byte[] Encode(int width, int height, SKEncodedImageFormat format)
    {
        using var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bmp))
        {
            canvas.Clear(new SKColor(200, 40, 40));
            using var paint = new SKPaint { Color = new SKColor(20, 220, 60) };
            canvas.DrawRect(0, 0, width / 2f, height, paint);
        }
        using var data = bmp.Encode(format, 90);
        return data.ToArray();
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png)]
    [InlineData(SKEncodedImageFormat.Jpeg)]
    public void A_large_image_is_decoded_reduced_keeping_twice_the_needed_side_and_its_colours(SKEncodedImageFormat format)
    {
        var bytes = Encode(2000, 1000, format);
        var full = ImageDecoder.Decode(bytes, "big");
        Assert.Equal((2000, 1000), (full.Width, full.Height));
        var small = ImageDecoder.Decode(bytes, "big", fitSide: 64);
        Assert.InRange(Math.Min(small.Width, small.Height), 128, 999);
        Assert.Equal(2.0, (double)small.Width / small.Height, 1);
        // The left half green, the right half red, as in the full decode.
        var (r, g, _) = small[small.Height / 2, small.Width / 4];
        Assert.True(g > 180 && r < 60, $"left: {r},{g}");
        (r, g, _) = small[small.Height / 2, 3 * small.Width / 4];
        Assert.True(r > 180 && g < 80, $"right: {r},{g}");
        // A small image, or no needed size, is decoded whole.
        Assert.Equal(2000, ImageDecoder.Decode(bytes, "big", fitSide: 600).Width);
    }

    [Fact]
    public void An_image_over_the_pixel_limit_is_refused_from_its_header()
    {
        var bytes = Encode(300, 300, SKEncodedImageFormat.Png);
        var e = Assert.Throws<ImageTooLargeException>(() => ImageDecoder.Decode(bytes, "upload", maxPixels: 50_000));
        Assert.Contains("300x300 pixels is over the limit of 50,000", e.Message);
        Assert.Equal((300, 300), ImageDecoder.ReadSize(bytes, "upload"));
    }
}
