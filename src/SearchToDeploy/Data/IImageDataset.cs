namespace SearchToDeploy.Data;

/// <summary>A labelled image dataset: CIFAR, SVHN, an image folder.</summary>
public interface IImageDataset
{
    /// <summary>Where it came from, for messages (a folder or file).</summary>
    string Source { get; }
    int Count { get; }
    /// <summary>Class names in label order.</summary>
    IReadOnlyList<string> Classes { get; }
    int LabelOf(int index);
    /// <summary>The image at <paramref name="index"/>; may decode a file (and throw <see cref="ImageDecodeException"/>).</summary>
    RgbImage Load(int index);
    /// <summary>The file behind the item, where there is one (for messages).</summary>
    string Describe(int index);
}
