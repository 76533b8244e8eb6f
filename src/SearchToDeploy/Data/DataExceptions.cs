namespace SearchToDeploy.Data;

/// <summary>A dataset file or folder that should exist does not. The message says what to put where.</summary>
public sealed class DatasetNotFoundException(string message) : InputException(message);

/// <summary>A dataset file exists but breaks its format (size, record count, label range, empty folder).</summary>
public sealed class DatasetFormatException(string message) : InputException(message);

/// <summary>An image file that cannot be decoded as an image.</summary>
public sealed class ImageDecodeException(string path, string reason)
    : InputException($"{path}: cannot decode image ({reason}); expected a JPEG, PNG, BMP, GIF or WebP file")
{
    public string FilePath { get; } = path;
}
