namespace SearchToDeploy.Data;

/// <summary>Where datasets live: --data-root, else the S2D_DATA_ROOT environment variable, else ./data.</summary>
public static class DataRoot
{
    public const string EnvironmentVariable = "S2D_DATA_ROOT";

    public static string Resolve(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option)) return Path.GetFullPath(option);
        var env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env)) return Path.GetFullPath(env);
        return Path.GetFullPath("data");
    }
}
