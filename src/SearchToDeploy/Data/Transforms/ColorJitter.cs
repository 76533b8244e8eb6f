using SearchToDeploy.Core;

namespace SearchToDeploy.Data.Transforms;

/// <summary>
/// torchvision's ColorJitter on float images in [0, 1] (HWC): brightness, contrast, saturation and hue factors drawn
/// uniformly, applied in a random order, clamping to [0, 1] after each.
/// </summary>
public sealed record ColorJitter(float Brightness, float Contrast, float Saturation, float Hue)
{
    public static readonly ColorJitter None = new(0, 0, 0, 0);
    public bool IsIdentity => Brightness == 0 && Contrast == 0 && Saturation == 0 && Hue == 0;

    public void Apply(Span<float> hwc01, ref Rng rng)
    {
        if (IsIdentity) return;
        Span<int> order = [0, 1, 2, 3];
        rng.Shuffle(order);
        float b = Factor(Brightness, ref rng), c = Factor(Contrast, ref rng), s = Factor(Saturation, ref rng);
        float h = Hue > 0 ? (float)rng.Uniform(-Hue, Hue) : 0;
        foreach (int op in order)
        {
            switch (op)
            {
                case 0 when Brightness > 0: Blend(hwc01, b, 0f); break;
                case 1 when Contrast > 0: Blend(hwc01, c, MeanGray(hwc01)); break;
                case 2 when Saturation > 0: Saturate(hwc01, s); break;
                case 3 when Hue > 0: ShiftHue(hwc01, h); break;
            }
        }
    }

    private static float Factor(float amount, ref Rng rng) =>
        amount > 0 ? (float)rng.Uniform(Math.Max(0, 1 - amount), 1 + amount) : 1f;

    private static float Gray(float r, float g, float b) => 0.299f * r + 0.587f * g + 0.114f * b;

    private static float MeanGray(ReadOnlySpan<float> x)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i += 3) sum += Gray(x[i], x[i + 1], x[i + 2]);
        return (float)(sum / (x.Length / 3));
    }

    /// <summary>x = f*x + (1-f)*other, clamped.</summary>
    private static void Blend(Span<float> x, float f, float other)
    {
        float o = (1 - f) * other;
        for (int i = 0; i < x.Length; i++) x[i] = Math.Clamp(f * x[i] + o, 0f, 1f);
    }

    private static void Saturate(Span<float> x, float f)
    {
        for (int i = 0; i < x.Length; i += 3)
        {
            float g = (1 - f) * Gray(x[i], x[i + 1], x[i + 2]);
            x[i] = Math.Clamp(f * x[i] + g, 0f, 1f);
            x[i + 1] = Math.Clamp(f * x[i + 1] + g, 0f, 1f);
            x[i + 2] = Math.Clamp(f * x[i + 2] + g, 0f, 1f);
        }
    }

    private static void ShiftHue(Span<float> x, float shift)
    {
        for (int i = 0; i < x.Length; i += 3)
        {
            float r = x[i], g = x[i + 1], b = x[i + 2];
            float max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b)), d = max - min;
            float hue = 0;
            if (d > 0)
            {
                if (max == r) hue = ((g - b) / d) / 6f;
                else if (max == g) hue = ((b - r) / d + 2f) / 6f;
                else hue = ((r - g) / d + 4f) / 6f;
            }
            float sat = max > 0 ? d / max : 0, val = max;
            hue = (hue + shift) % 1f;
            if (hue < 0) hue += 1f;
            float h6 = hue * 6f;
            int sector = (int)h6 % 6;
            float f = h6 - MathF.Floor(h6);
            float p = val * (1 - sat), q = val * (1 - sat * f), t = val * (1 - sat * (1 - f));
            (x[i], x[i + 1], x[i + 2]) = sector switch
            {
                0 => (val, t, p),
                1 => (q, val, p),
                2 => (p, val, t),
                3 => (p, q, val),
                4 => (t, p, val),
                _ => (val, p, q),
            };
        }
    }
}
