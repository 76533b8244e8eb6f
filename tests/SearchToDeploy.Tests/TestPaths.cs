namespace SearchToDeploy.Tests;

/// <summary>Where the tests find the shared real data and their fixtures, and scratch folders they clean up.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> SharedDataRoot = new(() =>
    {
        var env = Environment.GetEnvironmentVariable("S2D_DATA_ROOT");
        return !string.IsNullOrEmpty(env) ? Path.GetFullPath(env) : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
    });

    /// <summary>The repository (the folder with SearchToDeploy.sln above the test binary).</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "SearchToDeploy.sln"))) return dir.FullName;
            throw new InvalidOperationException("cannot find the repository root above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>The real data root (S2D_DATA_ROOT, else ../shared/data next to the repository).</summary>
    public static string DataRoot => SharedDataRoot.Value;
    public static string Cifar10 => Path.Combine(DataRoot, "cifar-10-batches-bin");
    public static string ImageNetSample => Path.Combine(DataRoot, "imagenet-sample");
    public static string Nb201Table => Path.Combine(DataRoot, "nas-bench-201", "accuracy.tsv");
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
}

/// <summary>A fresh temporary folder, deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "s2d-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>
    /// Makes this folder the working directory until disposed, so that a command given relative paths (or ".") works
    /// here and never in the test binaries' folder (the suite runs one class at a time: see AssemblyInfo).
    /// </summary>
    public IDisposable AsWorkingDirectory()
    {
        string before = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(Path);
        return new Restore(() => Directory.SetCurrentDirectory(before));
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
