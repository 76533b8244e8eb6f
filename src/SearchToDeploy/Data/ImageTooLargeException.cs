namespace SearchToDeploy.Data;

/// <summary>An image whose header claims more pixels than the caller accepts: refused before it is decoded.</summary>
public sealed class ImageTooLargeException(string path, string reason) : ImageDecodeException(path, reason);
