namespace SearchToDeploy.Reporting;

/// <summary>
/// Finds a TrueType font for plot text. SkiaSharp's dependency-free native build cannot ask fontconfig, so without a
/// registered font file ScottPlot draws no text. Looks in S2D_FONT, then common system font folders.
/// </summary>
public static class PlotFonts
{
    private static readonly Lazy<string?> Registered = new(Register);

    /// <summary>The registered font name, or null when no font file was found (plots then have no text).</summary>
    public static string? Name => Registered.Value;

    private static string? Register()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("S2D_FONT") is { Length: > 0 } env) candidates.Add(env);
        string[] names = ["DejaVuSans.ttf", "LiberationSans-Regular.ttf", "Arial.ttf", "arial.ttf", "NotoSans-Regular.ttf", "FreeSans.ttf"];
        foreach (var dir in new[] { "/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "/System/Library/Fonts", @"C:\Windows\Fonts" })
        {
            if (!Directory.Exists(dir)) continue;
            foreach (var n in names)
            {
                var hit = Directory.EnumerateFiles(dir, n, new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true }).FirstOrDefault(); // an unreadable folder must not break every plot
                if (hit is not null) candidates.Add(hit);
            }
        }
        foreach (var path in candidates.Where(File.Exists))
        {
            try
            {
                ScottPlot.Fonts.AddFontFile("S2D Sans", path);
                return "S2D Sans";
            }
            catch (Exception) { /* try the next one */ }
        }
        return null;
    }

    public static void Apply(ScottPlot.Plot plot)
    {
        if (Name is { } n) plot.Font.Set(n);
    }
}
