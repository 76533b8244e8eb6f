namespace SearchToDeploy.Nas.Supernets;

/// <summary>The names of <see cref="FrozenInit"/> on the command line and in settings files.</summary>
public static class FrozenInits
{
    public static FrozenInit Parse(string s) => s.ToLowerInvariant() switch
    {
        "default" => FrozenInit.Default,
        "kaiming-normal" => FrozenInit.KaimingNormal,
        "kaiming-uniform" => FrozenInit.KaimingUniform,
        _ => throw new InputException($"--frozen-init '{s}': expected default, kaiming-normal or kaiming-uniform"),
    };
}
