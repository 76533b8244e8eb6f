namespace SearchToDeploy.Data;

/// <summary>An image file that cannot be decoded as an image.</summary>
public class ImageDecodeException(string path, string reason)
    : InputException($"{path}: cannot decode image ({reason}); expected a JPEG, PNG, BMP, GIF or WebP file")
{
    public string FilePath { get; } = path;
}
