using SearchToDeploy.Core.Io;
using SearchToDeploy.Data;

namespace SearchToDeploy.Deploy.Inference;

/// <summary>
/// Classifies image files in batches (<c>s2d predict</c>): each file decoded upright by its EXIF orientation at the size
/// the model needs (as the server does), preprocessed by the model's metadata, then run through ONNX Runtime a batch at
/// a time. A file that is not an image, or is larger than <see cref="ImageDecoder.DefaultMaxPixels"/> (as the server
/// refuses it) or <see cref="MaxFileBytes"/>, gets its error instead of classes.
/// </summary>
public static class BatchPredictor
{
    /// <summary>Files larger than this are refused unread: no image a classifier takes is this big.</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>
    /// The image files among <paramref name="inputs"/>: files as given, folders searched recursively for the image
    /// extensions datasets use; folders' images in ordinal path order. Bad input: a path that does not exist, or no image at all.
    /// </summary>
    public static IReadOnlyList<string> FindImages(IEnumerable<string> inputs)
    {
        var found = new List<string>();
        foreach (var input in inputs)
        {
            if (File.Exists(input)) found.Add(input);
            else if (Directory.Exists(input))
                // Hidden files (macOS's ._ copies) are no images, as for the dataset reader; a folder this user cannot read is
                // passed over (the dataset reader refuses it instead: a training set must be whole).
                found.AddRange(Directory.EnumerateFiles(input, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 })
                    .Where(ImageFolderDataset.IsImageFile).Order(StringComparer.Ordinal));
            else throw new InputException($"--input {input}: no such file or folder");
        }
        if (found.Count == 0)
            throw new InputException($"--input {string.Join(", ", inputs)}: no images found (expected files or folders of {string.Join(", ", ImageFolderDataset.Extensions.Order())})");
        return found;
    }

    /// <summary>Predictions for <paramref name="files"/> in their order, a batch at a time, with progress lines on <paramref name="progress"/>.</summary>
    public static IEnumerable<Prediction> Run(DeployedModel model, IReadOnlyList<string> files, int top, int batch, int workers, TextWriter progress)
    {
        if (top < 1) throw new InputException($"--top {top}: expected 1 or more");
        if (batch < 1) throw new InputException($"--batch {batch}: expected 1 or more");
        if ((long)batch * model.ImageFloats > Array.MaxLength)
            throw new InputException($"--batch {batch}: {batch} images of {model.ImageFloats:N0} values do not fit one buffer; lower --batch");
        return Batches(model, files, top, batch, workers, progress);
    }

    private static IEnumerable<Prediction> Batches(DeployedModel model, IReadOnlyList<string> files, int top, int batch, int workers, TextWriter progress)
    {
        var meter = new ProgressMeter("predict", files.Count, "images", progress, TimeSpan.FromSeconds(10));
        int floats = model.ImageFloats;
        var input = new float[batch * floats];
        for (int start = 0; start < files.Count; start += batch)
        {
            int n = Math.Min(batch, files.Count - start);
            var errors = new string?[n];
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, workers) }, i =>
            {
                var chw = input.AsSpan(i * floats, floats);
                try { model.Preprocess(Decode(files[start + i], model.DecodeSide), chw); }
                catch (Exception e) when (e is InputException or IOException or UnauthorizedAccessException)
                {
                    errors[i] = e.Message;
                    chw.Clear();
                }
            });
            var logits = model.Logits(n == batch ? input : input[..(n * floats)], n); // a copy for the last, shorter batch only
            int classes = model.Classes.Count;
            for (int i = 0; i < n; i++)
            {
                var row = logits.AsSpan(i * classes, classes);
                if (errors[i] is null && !DeployedModel.AllFinite(row)) errors[i] = "the model's outputs for this image are not finite numbers (NaN or infinity)";
                yield return errors[i] is { } error
                    ? new Prediction(files[start + i], [], error)
                    : new Prediction(files[start + i], [.. DeployedModel.TopK(row, top).Select(p => (p.Index, model.Classes[p.Index], p.Probability))]);
            }
            meter.Report(start + n);
        }
        meter.Finish();
    }

    private static RgbImage Decode(string path, int side)
    {
        long length = new FileInfo(path).Length;
        if (length > MaxFileBytes) throw new ImageTooLargeException(path, $"a file of {length >> 20:N0} MB is over the limit of {MaxFileBytes >> 20} MB");
        return ImageDecoder.Decode(File.ReadAllBytes(path), path, ImageDecoder.DefaultMaxPixels, side, orient: true);
    }
}
