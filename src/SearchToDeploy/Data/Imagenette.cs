namespace SearchToDeploy.Data;

/// <summary>
/// Imagenette (fast.ai): 10 ImageNet classes with an official train/val split, in the ImageFolder layout. The chain's
/// ImageNet when no full ImageNet is given. Its folder under the data root is the first that exists of
/// <see cref="Folders"/>: the 64x64 copy of the shared data, or the official archive's 160/320-px or full-size folder.
/// </summary>
public static class Imagenette
{
    public static readonly IReadOnlyList<string> Folders = ["imagenette-64", "imagenette2-160", "imagenette2-320", "imagenette2"];

    /// <summary>The classes in ImageFolder (sorted WordNet id) order: id, name, official train and val image counts.</summary>
    public static readonly IReadOnlyList<(string Wnid, string Name, int Train, int Val)> Classes =
    [
        ("n01440764", "tench", 963, 387),
        ("n02102040", "English springer", 955, 395),
        ("n02979186", "cassette player", 993, 357),
        ("n03000684", "chain saw", 858, 386),
        ("n03028079", "church", 941, 409),
        ("n03394916", "French horn", 956, 394),
        ("n03417042", "garbage truck", 961, 389),
        ("n03425413", "gas pump", 931, 419),
        ("n03445777", "golf ball", 951, 399),
        ("n03888257", "parachute", 960, 390),
    ];

    public static int TrainImages => Classes.Sum(c => c.Train);
    public static int ValImages => Classes.Sum(c => c.Val);

    /// <summary>The dataset folder under <paramref name="dataRoot"/> (the first of <see cref="Folders"/> that exists, else the first).</summary>
    public static string Locate(string dataRoot) =>
        Folders.Select(f => Path.Combine(dataRoot, f)).FirstOrDefault(Directory.Exists) ?? Path.Combine(dataRoot, Folders[0]);

    /// <summary>The differences between a folder's splits and the official ones (file counts per class); empty when they match.</summary>
    public static IReadOnlyList<string> CompareWithOfficial(string location)
    {
        var problems = new List<string>();
        foreach (var (split, count) in new[] { ("train", (Func<(string, string, int Train, int Val), int>)(c => c.Train)), ("val", c => c.Val) })
        {
            string dir = Path.Combine(location, split);
            if (!Directory.Exists(dir)) { problems.Add($"{dir}: folder not found; expected the official Imagenette {split}/ split"); continue; }
            var found = Directory.GetDirectories(dir).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
            var expected = Classes.Select(c => c.Wnid).ToArray();
            if (!found.SequenceEqual(expected))
            {
                problems.Add($"{dir}: class folders {string.Join(", ", found)}; expected the 10 Imagenette classes {string.Join(", ", expected)}");
                continue;
            }
            foreach (var c in Classes)
            {
                int n = Directory.EnumerateFiles(Path.Combine(dir, c.Wnid)).Count(ImageFolderDataset.IsImageFile); // as the dataset reader counts them
                if (n != count(c)) problems.Add($"{Path.Combine(dir, c.Wnid)}: {n} images; the official {split} split has {count(c)} ({c.Name})");
            }
        }
        return problems;
    }

    /// <summary>synsets.txt lines ("wnid name") for the class names, as ImageNet's synset list writes them.</summary>
    public static string SynsetsText => string.Concat(Classes.Select(c => $"{c.Wnid} {c.Name}\n"));
}
