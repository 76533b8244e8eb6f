using SearchToDeploy.Pipeline;

namespace SearchToDeploy.Tests.Pipeline;

/// <summary>One uninterrupted smoke chain ("whole"), shared by the pipeline tests.</summary>
public sealed class SmokeChainFixture : IDisposable
{
    public SmokeChainFixture() => PipelineTests.Runner(Dir, PipelineTests.Inputs(), TextWriter.Null, "whole").RunThrough(Stage.Package);

    public TempDir Dir { get; } = new();
    public void Dispose() => Dir.Dispose();

    internal static void CopyFolder(string from, string to)
    {
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
    }
}
