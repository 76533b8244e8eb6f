using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace SearchToDeploy.Tests.Core;

/// <summary>The sources under src/ compiled with Roslyn (once per test run), for the house-rule tests that read code.</summary>
internal static class SourceCompilation
{
    public static readonly string Root = TestPaths.RepoRoot;
    private static readonly Lazy<CSharpCompilation> Compiled = new(Compile);

    public static CSharpCompilation Sources => Compiled.Value;

    /// <summary>The library's source folder, whose first-level folders are its rooms.</summary>
    public static string Library => Path.Combine(Root, "src", "SearchToDeploy");

    public static IEnumerable<string> Files(string folder) => Directory.GetFiles(folder, "*.cs", SearchOption.AllDirectories)
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"));

    private static CSharpCompilation Compile()
    {
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        var trees = Files(Path.Combine(Root, "src")).Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, f)).ToList();
        // The ONNX protobuf types, generated into obj/ by the build of the library this test run uses.
        trees.AddRange(Directory.GetFiles(Path.Combine(Library, "obj"), "Onnx.cs", SearchOption.AllDirectories)
            .OrderByDescending(File.GetLastWriteTimeUtc).Take(1).Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, f)));
        // The SDK's implicit usings (the projects set ImplicitUsings).
        trees.Add(CSharpSyntaxTree.ParseText("global using System; global using System.IO; global using System.Linq; global using System.Collections.Generic; " +
                                             "global using System.Threading; global using System.Threading.Tasks; global using System.Net.Http;", parse));
        var ours = new[] { "SearchToDeploy.dll", "s2d.dll", "SearchToDeploy.Tests.dll" };
        var dlls = Directory.GetFiles(AppContext.BaseDirectory, "*.dll").Where(p => !ours.Contains(Path.GetFileName(p)))
            .Concat(Directory.GetFiles(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "*.dll"))
            .Concat(AspNetCore())
            .Where(IsManaged).GroupBy(Path.GetFileName).Select(g => g.First());
        return CSharpCompilation.Create("scan", trees, dlls.Select(p => MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
    }

    /// <summary>The ASP.NET Core shared framework beside the running .NET one (s2d's serving code is built against it).</summary>
    private static IEnumerable<string> AspNetCore()
    {
        var core = new DirectoryInfo(Path.GetDirectoryName(typeof(object).Assembly.Location)!);
        var shared = Path.Combine(core.Parent!.Parent!.FullName, "Microsoft.AspNetCore.App");
        if (!Directory.Exists(shared)) return [];
        var version = Directory.GetDirectories(shared).Where(d => Path.GetFileName(d).Split('.')[0] == core.Name.Split('.')[0]).Order().LastOrDefault();
        return version is null ? [] : Directory.GetFiles(version, "*.dll");
    }

    /// <summary>
    /// The compilation's errors: a symbol that does not bind makes the rules that read code skip it unseen. Left out,
    /// as artefacts of compiling both projects as one library without the build's source generators: CS8795 (the
    /// [LibraryImport] methods whose bodies the generator writes), CS0165 (locals those missing calls would assign) and
    /// CS8805 (the program's top-level statements).
    /// </summary>
    public static IReadOnlyList<Diagnostic> Errors =>
        [.. Sources.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error && d.Id is not ("CS8795" or "CS0165" or "CS8805"))];

    private static bool IsManaged(string path)
    {
        try
        {
            using var s = File.OpenRead(path);
            using var pe = new System.Reflection.PortableExecutable.PEReader(s);
            return pe.HasMetadata;
        }
        catch (BadImageFormatException) { return false; }
    }
}
