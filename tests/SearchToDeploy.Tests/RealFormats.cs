using SkiaSharp;

namespace SearchToDeploy.Tests;

/// <summary>Writes small files in the real dataset formats for tests.</summary>
public static class RealFormats
{
    /// <summary>A CIFAR binary file: each record is label byte(s) then the R, G, B planes of a 32x32 image.</summary>
    public static void WriteCifar(string path, IReadOnlyList<byte[]> labelBytes, Func<int, int, byte> pixel)
    {
        using var fs = File.Create(path);
        for (int r = 0; r < labelBytes.Count; r++)
        {
            fs.Write(labelBytes[r]);
            for (int i = 0; i < 3072; i++) fs.WriteByte(pixel(r, i));
        }
    }

    /// <summary>A solid-colour image file encoded by SkiaSharp.</summary>
    public static void WriteImage(string path, int width, int height, SKColor color, SKEncodedImageFormat format = SKEncodedImageFormat.Jpeg)
    {
        using var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bmp.Erase(color);
        using var data = bmp.Encode(format, 95);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>A fake ImageNet-style folder: classes a..z prefix, n images each.</summary>
    public static void WriteImageFolder(string root, string[] classes, int perClass, int size = 40)
    {
        for (int c = 0; c < classes.Length; c++)
            for (int i = 0; i < perClass; i++)
                WriteImage(Path.Combine(root, classes[c], $"img{i}.jpg"), size + i, size, new SKColor((byte)(40 * c), (byte)(10 * i), 100));
    }
}
