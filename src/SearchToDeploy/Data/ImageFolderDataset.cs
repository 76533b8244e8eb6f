namespace SearchToDeploy.Data;

/// <summary>
/// An image folder in the ImageNet / torchvision ImageFolder layout: <c>root/&lt;class&gt;/&lt;image&gt;</c>. Classes are the
/// sub-folder names in ordinal sorted order (class index = sorted position); images within a class are sorted too.
/// A <c>synsets.txt</c> (lines of "wnid names") in the root or its parent gives human-readable class names.
/// </summary>
public sealed class ImageFolderDataset : IImageDataset
{
    public static readonly IReadOnlySet<string> Extensions =
        new HashSet<string>(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp" };

    private readonly string[] _files;
    private readonly int[] _labels;

    private ImageFolderDataset(string root, string[] classIds, string[] classNames, string[] files, int[] labels, int ignored)
    {
        Source = root; ClassIds = classIds; Classes = classNames; _files = files; _labels = labels; IgnoredFiles = ignored;
    }

    public string Source { get; }
    /// <summary>The class folder names (for ImageNet, the WordNet ids).</summary>
    public IReadOnlyList<string> ClassIds { get; }
    /// <summary>Human-readable class names from synsets.txt where present, else the folder names.</summary>
    public IReadOnlyList<string> Classes { get; }
    /// <summary>Files in class folders that are not images by extension (not loaded).</summary>
    public int IgnoredFiles { get; }
    public int Count => _files.Length;
    public int LabelOf(int index) => _labels[index];
    public string Describe(int index) => _files[index];
    public RgbImage Load(int index) => ImageDecoder.DecodeFile(_files[index]);

    public static string LayoutHelp(string root) =>
        $"expected an image folder: {root}/<class>/<image>.jpg|.png, one sub-folder per class (ImageNet: train/ and val/ each in this layout)";

    /// <summary>Whether <paramref name="path"/> is read as an image: a known extension, and not hidden (macOS's ._ copies are not images).</summary>
    public static bool IsImageFile(string path) => !Path.GetFileName(path).StartsWith('.') && Extensions.Contains(Path.GetExtension(path));

    public static ImageFolderDataset Open(string root)
    {
        if (!Directory.Exists(root))
            throw new DatasetNotFoundException($"{root}: folder not found; {LayoutHelp(root)}");
        var classDirs = Directory.GetDirectories(root)
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .OrderBy(d => Path.GetFileName(d), StringComparer.Ordinal)
            .ToArray();
        if (classDirs.Length == 0)
            throw new DatasetFormatException($"{root}: no class sub-folders; {LayoutHelp(root)}");

        var files = new List<string>();
        var labels = new List<int>();
        int ignored = 0;
        for (int c = 0; c < classDirs.Length; c++)
        {
            var images = new List<string>();
            foreach (var f in Directory.EnumerateFiles(classDirs[c], "*", SearchOption.AllDirectories))
            {
                if (IsImageFile(f)) images.Add(f);
                else if (!Path.GetFileName(f).StartsWith('.')) ignored++;
            }
            if (images.Count == 0)
                throw new DatasetFormatException(
                    $"{classDirs[c]}: empty class folder; expected at least one image ({string.Join(", ", Extensions.Order())})");
            images.Sort(StringComparer.Ordinal);
            files.AddRange(images);
            labels.AddRange(Enumerable.Repeat(c, images.Count));
        }

        var ids = classDirs.Select(d => Path.GetFileName(d)!).ToArray();
        var names = ReadSynsets(root) is { } synsets
            ? ids.Select(id => synsets.TryGetValue(id, out var n) ? n : id).ToArray()
            : ids;
        return new ImageFolderDataset(root, ids, names, [.. files], [.. labels], ignored);
    }

    /// <summary>"wnid names" lines from synsets.txt in the folder or its parent, if there is one.</summary>
    private static Dictionary<string, string>? ReadSynsets(string root)
    {
        string full = Path.GetFullPath(root);
        foreach (var dir in new[] { full, Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar)) })
        {
            if (dir is null) continue;
            string path = Path.Combine(dir, "synsets.txt");
            if (!File.Exists(path)) continue;
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var line in File.ReadLines(path))
            {
                var t = line.Trim();
                if (t.Length == 0) continue;
                int sp = t.IndexOf(' ');
                if (sp < 0) map[t] = t;
                else map[t[..sp]] = t[(sp + 1)..].Trim();
            }
            return map;
        }
        return null;
    }
}
