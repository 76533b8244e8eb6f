
namespace SearchToDeploy.Nas.Strategies;

public static class SearchMethods
{
    public static readonly IReadOnlyList<string> Names = ["darts", "pc-darts", "rf-darts", "rf-pcdarts"];

    public static string Name(this SearchMethod m) => Names[(int)m];
    public static bool IsPartialChannel(this SearchMethod m) => m is SearchMethod.PcDarts or SearchMethod.RfPcDarts;
    public static bool IsRandomFeatures(this SearchMethod m) => m is SearchMethod.RfDarts or SearchMethod.RfPcDarts;

    public static SearchMethod Parse(string name) => name.ToLowerInvariant().Replace("_", "-") switch
    {
        "darts" => SearchMethod.Darts,
        "pc-darts" or "pcdarts" => SearchMethod.PcDarts,
        "rf-darts" or "rfdarts" => SearchMethod.RfDarts,
        "rf-pcdarts" or "rf-pc-darts" or "rfpcdarts" => SearchMethod.RfPcDarts,
        _ => throw new InputException($"--method '{name}': unknown search method; expected one of {string.Join(", ", Names)}"),
    };
}
