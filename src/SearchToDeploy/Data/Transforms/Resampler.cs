namespace SearchToDeploy.Data.Transforms;

/// <summary>
/// Antialiased bilinear resampling of a box of an RGB image to a new size, with the semantics of PIL's
/// <c>Image.resize(size, BILINEAR, box)</c> (and torchvision's antialiased tensor resize): the triangle filter is
/// widened by the scale factor when shrinking, and taps are clipped to the image (not to the box). Output is HWC
/// floats in 0..255, not rounded.
/// </summary>
public static class Resampler
{
    public static void ResizeBox(in RgbImage src, double x0, double y0, double x1, double y1, int outW, int outH, Span<float> dst)
    {
        if (dst.Length < outW * outH * 3) throw new ArgumentException("destination too small", nameof(dst));
        var h = Coefficients(src.Width, x0, x1, outW);
        var v = Coefficients(src.Height, y0, y1, outH);
        int rowLo = v.Start.Min(), rowHi = 0;
        for (int i = 0; i < outH; i++) rowHi = Math.Max(rowHi, v.Start[i] + v.Count[i]);

        // Horizontal pass over just the rows the vertical pass needs.
        int rows = rowHi - rowLo;
        var tmp = ScratchBuffers<float>.Rent(rows * outW * 3);
        var px = src.Pixels;
        int srcStride = src.Width * 3;
        for (int r = 0; r < rows; r++)
        {
            var line = px.Slice((rowLo + r) * srcStride, srcStride);
            int t = r * outW * 3;
            for (int xx = 0; xx < outW; xx++)
            {
                int start = h.Start[xx], n = h.Count[xx], k = xx * h.Stride;
                float sr = 0, sg = 0, sb = 0;
                for (int j = 0; j < n; j++)
                {
                    float w = h.Weights[k + j];
                    int p = (start + j) * 3;
                    sr += w * line[p]; sg += w * line[p + 1]; sb += w * line[p + 2];
                }
                tmp[t++] = sr; tmp[t++] = sg; tmp[t++] = sb;
            }
        }

        int rowFloats = outW * 3;
        for (int yy = 0; yy < outH; yy++)
        {
            var o = dst.Slice(yy * rowFloats, rowFloats);
            o.Clear();
            int start = v.Start[yy] - rowLo, n = v.Count[yy], k = yy * v.Stride;
            for (int j = 0; j < n; j++)
            {
                float w = v.Weights[k + j];
                var row = tmp.AsSpan((start + j) * rowFloats, rowFloats);
                for (int i = 0; i < rowFloats; i++) o[i] += w * row[i];
            }
        }
        ScratchBuffers<float>.Return(tmp);
    }

    /// <summary>Resamples the whole image.</summary>
    public static void Resize(in RgbImage src, int outW, int outH, Span<float> dst) =>
        ResizeBox(src, 0, 0, src.Width, src.Height, outW, outH, dst);

    private sealed record Taps(int[] Start, int[] Count, float[] Weights, int Stride);

    private static Taps Coefficients(int inSize, double in0, double in1, int outSize)
    {
        double scale = (in1 - in0) / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = 1.0 * filterScale; // bilinear (triangle) filter support is 1
        int stride = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[outSize];
        var count = new int[outSize];
        var weights = new float[outSize * stride];
        var tmp = new double[stride];
        for (int i = 0; i < outSize; i++)
        {
            double center = in0 + (i + 0.5) * scale;
            int xmin = (int)Math.Max(center - support + 0.5, 0);
            int xmax = (int)Math.Min(center + support + 0.5, inSize) - xmin;
            xmax = Math.Min(xmax, stride);
            double total = 0;
            for (int x = 0; x < xmax; x++)
            {
                double arg = (x + xmin - center + 0.5) / filterScale;
                double w = Math.Abs(arg) < 1.0 ? 1.0 - Math.Abs(arg) : 0.0;
                tmp[x] = w; total += w;
            }
            for (int x = 0; x < xmax; x++) weights[i * stride + x] = (float)(total != 0 ? tmp[x] / total : 0);
            start[i] = xmin; count[i] = Math.Max(xmax, 0);
        }
        return new Taps(start, count, weights, stride);
    }
}
