using SearchToDeploy.Core;

namespace SearchToDeploy.Data.Transforms;

/// <summary>
/// The DARTS CIFAR pipeline: random crop with zero padding, horizontal flip, normalise, then cutout (a square of
/// zeros in the normalised image, as DARTS applies it; with <see cref="CutoutProbability"/>, to that share of images). With padding 0, no flip and no cutout it is the evaluation
/// transform. Images of another size are first resized to <see cref="Size"/> x <see cref="Size"/>.
/// </summary>
public sealed class CifarTransform(Normalization norm, int size = 32, int padding = 4, bool flip = true, int cutout = 0) : IImageTransform
{
    public static CifarTransform Train(Normalization norm, int cutout = 0, int size = 32) => new(norm, size, 4, true, cutout);
    public static CifarTransform Eval(Normalization norm, int size = 32) => new(norm, size, 0, false, 0);

    public int Size { get; } = size;
    public int Padding { get; } = padding;
    public bool Flip { get; } = flip;
    public int Cutout { get; } = cutout;

    /// <summary>
    /// The probability an image gets its cutout (1: every image, DARTS's retraining). RobustDARTS's search raises it
    /// linearly over the epochs; whoever owns the transform sets it before an epoch's images are made.
    /// </summary>
    public double CutoutProbability { get; set; } = 1;
    public int Height => Size;
    public int Width => Size;

    public void Apply(in RgbImage image, ref Rng rng, Span<float> chw)
    {
        int s = Size, plane = s * s;
        ReadOnlySpan<byte> bytes = default;
        float[]? resized = null;
        if (image.Width == s && image.Height == s) bytes = image.Pixels;
        else
        {
            resized = new float[plane * 3];
            Resampler.Resize(image, s, s, resized);
        }

        int dy = Padding > 0 ? rng.NextInt(2 * Padding + 1) - Padding : 0;
        int dx = Padding > 0 ? rng.NextInt(2 * Padding + 1) - Padding : 0;
        bool flip = Flip && rng.NextBool();

        for (int c = 0; c < 3; c++)
        {
            float scale = 1f / (255f * norm.Std[c]), shift = -norm.Mean[c] / norm.Std[c];
            var dst = chw.Slice(c * plane, plane);
            for (int y = 0; y < s; y++)
            {
                int sy = y + dy;
                for (int x = 0; x < s; x++)
                {
                    int sx = (flip ? s - 1 - x : x) + dx;
                    float v = 0;
                    if ((uint)sy < (uint)s && (uint)sx < (uint)s)
                    {
                        int i = (sy * s + sx) * 3 + c;
                        v = resized is null ? bytes[i] : resized[i];
                    }
                    dst[y * s + x] = v * scale + shift;
                }
            }
        }

        // Below 1 a draw decides (none is made at 1, so DARTS's retraining draws what it always drew).
        if (Cutout > 0 && (CutoutProbability >= 1 || CutoutProbability > 0 && rng.NextDouble() < CutoutProbability))
        {
            int cy = rng.NextInt(s), cx = rng.NextInt(s);
            int y0 = Math.Clamp(cy - Cutout / 2, 0, s), y1 = Math.Clamp(cy + Cutout / 2, 0, s);
            int x0 = Math.Clamp(cx - Cutout / 2, 0, s), x1 = Math.Clamp(cx + Cutout / 2, 0, s);
            for (int c = 0; c < 3; c++)
                for (int y = y0; y < y1; y++)
                    chw.Slice(c * plane + y * s + x0, x1 - x0).Clear();
        }
    }
}
