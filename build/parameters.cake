// Build arguments, resolved once. Pass them as --name=value to `dotnet cake`.
public static class Parameters
{
    public static string Target { get; private set; }
    public static string Configuration { get; private set; }
    /// <summary>Torch backend: cpu (default), cuda (TorchSharp-cuda-linux, for GPU machines whose package source serves it) or host (libtorch from $S2D_LIBTORCH at run time).</summary>
    public static string Torch { get; private set; }
    /// <summary>ONNX Runtime package: gpu (default; runs on CPU where CUDA is absent) or cpu.</summary>
    public static string Ort { get; private set; }
    /// <summary>Where datasets live (else S2D_DATA_ROOT, else ./data).</summary>
    public static string DataRoot { get; private set; }
    public static string Dataset { get; private set; }
    public static string Artifacts { get; private set; }

    public static void Init(ICakeContext context)
    {
        Target = context.Argument("target", "Test");
        Configuration = context.Argument("configuration", "Release");
        Torch = context.Argument("torch", "cpu");
        Ort = context.Argument("ort", "gpu");
        DataRoot = context.Argument("data-root", (context.EnvironmentVariable("S2D_DATA_ROOT") is { Length: > 0 } env ? env : "data")); // set but empty: as unset
        Dataset = context.Argument("dataset", "cifar10");
        Artifacts = context.Argument("artifacts", "artifacts");
        if (Torch != "cpu" && Torch != "cuda" && Torch != "host") throw new Exception($"--torch={Torch}: expected cpu, cuda or host");
        if (Ort != "gpu" && Ort != "cpu") throw new Exception($"--ort={Ort}: expected gpu or cpu");
    }

    public static DotNetMSBuildSettings MSBuild() => new DotNetMSBuildSettings()
        .WithProperty("S2DTorch", Torch)
        .WithProperty("S2DOrt", Ort);
}

Parameters.Init(Context);

/// <summary>Runs the built s2d program with arguments; returns its exit code.</summary>
public static int S2d(ICakeContext context, string args) => context.StartProcess("dotnet", new ProcessSettings
{
    Arguments = $"run --project src/SearchToDeploy.Cli -c {Parameters.Configuration} --no-build -p:S2DTorch={Parameters.Torch} -p:S2DOrt={Parameters.Ort} -- {args}",
});
