using SearchToDeploy.Core.Io;

namespace SearchToDeploy.Nas.Architectures;

/// <summary>
/// genotype.json files (<see cref="GenotypeDocument"/>): written atomically by each stage into its folder, read back by
/// the next. The command line also takes the published string forms in their place.
/// </summary>
public static class GenotypeFile
{
    public const string FileName = "genotype.json";

    public static void Save(string path, GenotypeDocument document) => AtomicFile.WriteAllText(path, document.ToJson());

    /// <summary>A genotype.json path, or a genotype string in either published form.</summary>
    public static GenotypeDocument LoadFileOrText(string argument, string? space = null)
    {
        if (File.Exists(argument)) return LoadDocument(argument);
        string t = argument.TrimStart();
        if (t.StartsWith("Genotype", StringComparison.Ordinal) || t.StartsWith('|')) return GenotypeDocument.Of(Architecture.ParseText(t, space));
        if (argument.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || argument.Contains('/'))
            throw new InputException($"{argument}: genotype file not found");
        return GenotypeDocument.Of(Architecture.ParseText(t, space));
    }

    public static GenotypeDocument LoadDocument(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (IOException e) { throw new InputException($"{path}: cannot read the genotype file ({e.Message})"); }
        return GenotypeDocument.Parse(text, path);
    }

    public static Architecture Load(string path) => LoadDocument(path).Architecture;
}
