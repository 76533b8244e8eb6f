using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Nas.Architectures;

/// <summary>A searched architecture of either kind: a DARTS-space genotype or a NAS-Bench-201 cell.</summary>
public sealed record Architecture(string Space, DartsGenotype? Cell, Nb201Arch? Nb201)
{
    public SpaceKind Kind => Nb201 is not null ? SpaceKind.Nb201 : SpaceKind.DartsCell;
    public string Text => Cell?.ToString() ?? Nb201!.ToString();
    public override string ToString() => Text;

    public static Architecture FromCell(string space, DartsGenotype g) => new(space, g, null);
    public static Architecture FromNb201(Nb201Arch a) => new(SearchSpaces.Nb201.Name, null, a);

    /// <summary>Parses either published string form: <c>Genotype(...)</c> or a NAS-Bench-201 <c>|op~0|+...</c> string.</summary>
    public static Architecture ParseText(string text, string? space = null)
    {
        string t = text.Trim();
        if (t.StartsWith("Genotype", StringComparison.Ordinal)) return FromCell(space ?? SearchSpaces.Darts.Name, DartsGenotype.Parse(t));
        if (t.StartsWith('|')) return FromNb201(Nb201Arch.Parse(t));
        throw new InputException($"architecture '{Shorten(t)}': expected a genotype.json file, a DARTS string 'Genotype(normal=[...], ...)' " +
                                 "or a NAS-Bench-201 string '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'");
    }

    internal static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
