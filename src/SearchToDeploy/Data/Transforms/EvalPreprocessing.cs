namespace SearchToDeploy.Data.Transforms;

/// <summary>
/// How a trained model's inputs are prepared for evaluation, decided once when training starts and carried unchanged
/// by the checkpoint, the ONNX model's metadata and everything that feeds the model (validation, export parity,
/// serving): resize the shorter side to <see cref="ResizeShorter"/> and centre-crop <see cref="InputSize"/> (0: resize
/// the whole image to the input size, for 32x32 datasets), then normalise with <see cref="Mean"/> and <see cref="Std"/>.
/// </summary>
public sealed record EvalPreprocessing(int InputSize, int ResizeShorter, float[] Mean, float[] Std)
{
    public const int MinSize = 8, MaxSize = 4096;

    public ResizeCropTransform Transform() => new(new Normalization(Mean, Std), ResizeShorter, InputSize);

    /// <summary>The steps in words (the model card and the ONNX metadata say this).</summary>
    public string Describe() => ResizeShorter > 0
        ? $"decode to RGB, resize the shorter side to {ResizeShorter} (bilinear), centre-crop {InputSize}x{InputSize}, scale to [0,1], subtract mean, divide by std, NCHW"
        : $"decode to RGB, resize to {InputSize}x{InputSize}, scale to [0,1], subtract mean, divide by std, NCHW";

    /// <summary>Problems that make it unusable (empty when it is sound), each naming the field.</summary>
    public IReadOnlyList<string> Problems()
    {
        var found = new List<string>();
        if (InputSize is < MinSize or > MaxSize) found.Add($"input size {InputSize}: expected {MinSize} to {MaxSize} pixels");
        if (ResizeShorter != 0 && (ResizeShorter < InputSize || ResizeShorter > 4 * MaxSize))
            found.Add($"resize-shorter {ResizeShorter}: expected 0 (no resize) or at least the input size {InputSize}");
        if (Mean.Length != 3 || Mean.Any(m => !float.IsFinite(m))) found.Add($"mean [{string.Join(", ", Mean)}]: expected 3 finite numbers (R, G, B)");
        if (Std.Length != 3 || Std.Any(s => !float.IsFinite(s) || s <= 0)) found.Add($"std [{string.Join(", ", Std)}]: expected 3 positive numbers (R, G, B)");
        return found;
    }
}
