using System.Buffers;
using SearchToDeploy.Core;

namespace SearchToDeploy.Data.Transforms;

/// <summary>
/// The ImageNet training pipeline: RandomResizedCrop (scale 0.08-1, ratio 3/4-4/3, torchvision's sampling),
/// horizontal flip, colour jitter, normalise.
/// </summary>
public sealed class ImageNetTrainTransform(Normalization norm, int size = 224, ColorJitter? jitter = null,
    double minScale = 0.08, double maxScale = 1.0) : IImageTransform
{
    public ColorJitter Jitter { get; } = jitter ?? new ColorJitter(0.4f, 0.4f, 0.4f, 0.2f);
    public int Height => size;
    public int Width => size;

    public void Apply(in RgbImage image, ref Rng rng, Span<float> chw)
    {
        var (x0, y0, w, h) = SampleCrop(image.Width, image.Height, ref rng);
        var rented = ArrayPool<float>.Shared.Rent(size * size * 3);
        var buf = rented.AsSpan(0, size * size * 3);
        Resampler.ResizeBox(image, x0, y0, x0 + w, y0 + h, size, size, buf);
        if (rng.NextBool()) FlipHorizontal(buf, size, size);
        if (!Jitter.IsIdentity)
        {
            for (int i = 0; i < buf.Length; i++) buf[i] *= 1f / 255f;
            Jitter.Apply(buf, ref rng);
            for (int i = 0; i < buf.Length; i++) buf[i] *= 255f;
        }
        norm.ToChw(buf, size, size, chw);
        ArrayPool<float>.Shared.Return(rented);
    }

    /// <summary>torchvision RandomResizedCrop.get_params: 10 tries, then a centre crop with the ratio clamped.</summary>
    internal (int X, int Y, int W, int H) SampleCrop(int width, int height, ref Rng rng)
    {
        double area = (double)width * height;
        double logLo = Math.Log(3.0 / 4.0), logHi = Math.Log(4.0 / 3.0);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * rng.Uniform(minScale, maxScale);
            double ratio = Math.Exp(rng.Uniform(logLo, logHi));
            int w = (int)Math.Round(Math.Sqrt(target * ratio));
            int h = (int)Math.Round(Math.Sqrt(target / ratio));
            if (w > 0 && h > 0 && w <= width && h <= height)
                return (rng.NextInt(width - w + 1), rng.NextInt(height - h + 1), w, h);
        }
        double inRatio = (double)width / height;
        int cw, ch;
        if (inRatio < 3.0 / 4.0) { cw = width; ch = (int)Math.Round(cw / (3.0 / 4.0)); }
        else if (inRatio > 4.0 / 3.0) { ch = height; cw = (int)Math.Round(ch * (4.0 / 3.0)); }
        else { cw = width; ch = height; }
        return ((width - cw) / 2, (height - ch) / 2, cw, ch);
    }

    internal static void FlipHorizontal(Span<float> hwc, int width, int height)
    {
        for (int y = 0; y < height; y++)
        {
            var row = hwc.Slice(y * width * 3, width * 3);
            for (int a = 0, b = width - 1; a < b; a++, b--)
                for (int c = 0; c < 3; c++)
                    (row[a * 3 + c], row[b * 3 + c]) = (row[b * 3 + c], row[a * 3 + c]);
        }
    }
}
