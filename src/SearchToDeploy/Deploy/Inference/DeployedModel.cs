using SearchToDeploy.Core;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Transforms;
using SearchToDeploy.Deploy.Onnx;

namespace SearchToDeploy.Deploy.Inference;

/// <summary>
/// An exported model ready to classify: its ONNX Runtime session, class labels and the preprocessing its metadata
/// describes (resize the shorter side and centre-crop, or resize to the input size; normalise with its mean/std).
/// One instance serves concurrent callers: ONNX Runtime sessions are thread-safe for Run.
/// </summary>
public sealed class DeployedModel : IDisposable
{
    private readonly OnnxInference _session;

    public DeployedModel(string path, OnnxExecutionProvider provider = OnnxExecutionProvider.Auto, int threads = 0, bool memoryArena = true)
    {
        Path = System.IO.Path.GetFullPath(path);
        Metadata = OnnxModelFile.ReadMetadata(path);
        Info = ModelMetadata.Parse(Metadata, path);
        Transform = Info.Preprocessing.Transform();
        _session = new OnnxInference(path, provider, threads, memoryArena);
        // The graph's own input must take what the metadata's preprocessing makes.
        if (_session.InputShape is [_, var c, var h, var w] && (c != 3 || h > 0 && h != InputSize || w > 0 && w != InputSize))
        {
            _session.Dispose();
            throw new OnnxFormatException($"{path}: the graph's input is [N, {c}, {h}, {w}] but its metadata says {InputSize}x{InputSize} RGB images; the model and its metadata do not belong together");
        }
        try { SelfTest(); }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The model's metadata, typed and checked.</summary>
    public ModelMetadata Info { get; }
    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyList<string> Classes => Info.Classes;
    public int InputSize => Info.Preprocessing.InputSize;
    public int ResizeShorter => Info.Preprocessing.ResizeShorter;
    public IImageTransform Transform { get; }
    public OnnxExecutionProvider Provider => _session.Provider;
    public string? FallbackReason => _session.FallbackReason;
    public int ImageFloats => 3 * InputSize * InputSize;
    /// <summary>The shorter side an image needs before preprocessing (what a decoder may shrink a large image to).</summary>
    public int DecodeSide => ResizeShorter > 0 ? ResizeShorter : InputSize;

    /// <summary>
    /// Runs one blank image through the model and checks the output (done when the model is loaded): a model that
    /// cannot classify is refused before it serves anything (an <see cref="OnnxFormatException"/> naming the file and
    /// what went wrong).
    /// </summary>
    public void SelfTest()
    {
        float[] logits;
        try { logits = Logits(new float[ImageFloats], 1); }
        catch (Exception e) when (e is not InputException)
        {
            throw new OnnxFormatException($"{Path}: the model does not run on a {InputSize}x{InputSize} image ({Core.Torch.NativeErrors.Message(e)})");
        }
        if (logits.Length != Classes.Count)
            throw new OnnxFormatException($"{Path}: the model gives {logits.Length} outputs for one image but its metadata names {Classes.Count} classes");
        if (!AllFinite(logits))
            throw new OnnxFormatException($"{Path}: the model's outputs for a blank image are not finite numbers (NaN or infinity); its weights are broken");
    }

    /// <summary>Whether every logit is a finite number (a model with NaN or infinite weights gives NaN, which ranks no class).</summary>
    public static bool AllFinite(ReadOnlySpan<float> logits)
    {
        foreach (var v in logits)
            if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>Logits [n, classes] of a preprocessed NCHW batch.</summary>
    public float[] Logits(float[] batch, int n) => _session.Run(batch, [n, 3, InputSize, InputSize]);

    /// <summary>Preprocesses one decoded image into <paramref name="chw"/>.</summary>
    public void Preprocess(in RgbImage image, Span<float> chw)
    {
        var rng = new Rng(0);
        Transform.Apply(image, ref rng, chw);
    }

    /// <summary>The top-k labels and softmax probabilities of one image.</summary>
    public IReadOnlyList<(int Index, string Label, float Probability)> Classify(in RgbImage image, int k = 5)
    {
        var x = new float[ImageFloats];
        Preprocess(image, x);
        var logits = Logits(x, 1);
        if (!AllFinite(logits)) throw new InvalidOperationException($"{Path}: the model's outputs for this image are not finite numbers (NaN or infinity)");
        return TopK(logits, k).Select(p => (p.Index, Classes[p.Index], p.Probability)).ToList();
    }

    /// <summary>
    /// The k classes of largest logit (ties to the lower index) with their softmax probabilities. Ranked on the logits
    /// themselves: probabilities far under the top one underflow to the same 0. The logits must be finite
    /// (<see cref="AllFinite"/>): NaN ranks no class.
    /// </summary>
    public static List<(int Index, float Probability)> TopK(ReadOnlySpan<float> logits, int k)
    {
        if (!AllFinite(logits)) throw new ArgumentException("logits that are not finite numbers (NaN or infinity) rank no class", nameof(logits));
        float max = float.NegativeInfinity;
        foreach (var v in logits) max = Math.Max(max, v);
        var l = logits.ToArray();
        double sum = 0;
        foreach (var v in l) sum += Math.Exp(v - max);
        return [.. Enumerable.Range(0, l.Length).OrderByDescending(i => l[i]).ThenBy(i => i).Take(Math.Min(k, l.Length)).Select(i => (i, (float)(Math.Exp(l[i] - max) / sum)))];
    }

    public void Dispose() => _session.Dispose();
}
