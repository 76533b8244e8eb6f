using SearchToDeploy.Core;

namespace SearchToDeploy.Data.Transforms;

/// <summary>
/// Deterministic evaluation preprocessing: resize the shorter side to <see cref="ResizeShorter"/> and centre-crop
/// <see cref="Crop"/> x <see cref="Crop"/> (ImageNet: 256 / 224, torchvision semantics), or, with ResizeShorter 0,
/// resize the whole image to Crop x Crop (CIFAR-sized models). Then normalise.
/// </summary>
public sealed class ResizeCropTransform(Normalization norm, int resizeShorter, int crop) : IImageTransform
{
    public static ResizeCropTransform ImageNetEval(int crop = 224) => new(Normalization.ImageNet, crop * 8 / 7, crop);

    public Normalization Norm { get; } = norm;
    public int ResizeShorter { get; } = resizeShorter;
    public int Crop { get; } = crop;
    public int Height => Crop;
    public int Width => Crop;

    public void Apply(in RgbImage image, ref Rng rng, Span<float> chw)
    {
        var buf = ScratchBuffers<float>.Rent(Crop * Crop * 3);
        var (x0, y0, x1, y1) = SourceBox(image.Width, image.Height);
        Resampler.ResizeBox(image, x0, y0, x1, y1, Crop, Crop, buf);
        Norm.ToChw(buf, Crop, Crop, chw);
        ScratchBuffers<float>.Return(buf);
    }

    /// <summary>The box of the source image that ends up in the output.</summary>
    internal (double X0, double Y0, double X1, double Y1) SourceBox(int width, int height)
    {
        if (ResizeShorter <= 0) return (0, 0, width, height);
        int ow, oh;
        if (width <= height) { ow = ResizeShorter; oh = (int)((long)ResizeShorter * height / width); }
        else { oh = ResizeShorter; ow = (int)((long)ResizeShorter * width / height); }
        if (ow < Crop || oh < Crop)
            throw new InvalidOperationException($"resize {ResizeShorter} is smaller than crop {Crop}");
        int top = (int)Math.Round((oh - Crop) / 2.0, MidpointRounding.ToEven);
        int left = (int)Math.Round((ow - Crop) / 2.0, MidpointRounding.ToEven);
        double sx = (double)width / ow, sy = (double)height / oh;
        return (left * sx, top * sy, (left + Crop) * sx, (top + Crop) * sy);
    }
}
