using SearchToDeploy.Core;

namespace SearchToDeploy.Data.Transforms;

/// <summary>Turns an RGB image into a normalised CHW float tensor of a fixed size, drawing any randomness from rng.</summary>
public interface IImageTransform
{
    int Height { get; }
    int Width { get; }
    void Apply(in RgbImage image, ref Rng rng, Span<float> chw);
}
