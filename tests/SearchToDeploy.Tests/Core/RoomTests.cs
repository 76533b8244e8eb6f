using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace SearchToDeploy.Tests.Core;

/// <summary>
/// The library's rooms (its first-level folders, each a namespace) depend on each other in one direction only, read
/// from the compiled sources: every type a file names must live in its own room or in one before it. Inside Nas the
/// same holds for its sub-rooms. One public type per file, named like the file.
/// </summary>
public sealed class RoomTests
{
    /// <summary>The rooms in dependency order (docs/architecture.md); the root namespace (InputException) counts as Core.</summary>
    internal static readonly string[] Rooms = ["Core", "Data", "Nas", "Reporting", "Runs", "Deploy", "Pipeline", "Benchmarks"];
    internal static readonly string[] NasRooms = ["Ops", "Spaces", "Architectures", "Networks", "Supernets", "Strategies"];

    [Fact]
    public void Rooms_depend_only_on_earlier_rooms()
    {
        var edges = Edges();
        var backwards = edges.Where(e => e.Key.From != e.Key.To && Rank(e.Key.From) < Rank(e.Key.To))
            .Select(e => $"{e.Key.From} -> {e.Key.To} ({e.Value})").ToList();
        Assert.True(backwards.Count == 0, "dependencies against the room order " + string.Join(" <- ", Rooms) + ":\n" + string.Join("\n", backwards));
        // The scan sees what it must: a room that uses another is found.
        Assert.Contains(("Runs", "Nas/Supernets"), edges.Keys);
        Assert.Contains(("Nas/Strategies", "Nas/Supernets"), edges.Keys);
    }

    [Fact]
    public void Every_source_file_holds_one_public_type_named_like_the_file()
    {
        var wrong = new List<string>();
        foreach (var file in SourceCompilation.Files(Path.Combine(SourceCompilation.Root, "src")))
        {
            var root = CSharpSyntaxTree.ParseText(File.ReadAllText(file), new CSharpParseOptions(LanguageVersion.Preview)).GetRoot();
            var types = root.DescendantNodes().OfType<BaseTypeDeclarationSyntax>()
                .Where(t => t.Parent is BaseNamespaceDeclarationSyntax or CompilationUnitSyntax && t.Modifiers.Any(m => m.IsKind(SyntaxKind.PublicKeyword)))
                .Select(t => t.Identifier.Text).ToList();
            string name = Path.GetFileNameWithoutExtension(file);
            if (types.Count > 1 || types.Count == 1 && types[0] != name)
                wrong.Add($"{Path.GetRelativePath(SourceCompilation.Root, file)}: {string.Join(", ", types)}");
        }
        Assert.True(wrong.Count == 0, "one public type per file, named like it:\n" + string.Join("\n", wrong));
    }

    /// <summary>A room's place in the order; Nas's sub-rooms are ordered among themselves inside Nas's place.</summary>
    private static int Rank(string room)
    {
        var parts = room.Split('/');
        return Array.IndexOf(Rooms, parts[0]) * 100 + (parts.Length > 1 ? Array.IndexOf(NasRooms, parts[1]) : 0);
    }

    /// <summary>The room of a namespace: "Nas/Ops" for Nas's sub-rooms, else the first segment after SearchToDeploy.</summary>
    private static string? RoomOf(INamespaceSymbol? ns)
    {
        string name = ns?.ToDisplayString() ?? "";
        if (name == "SearchToDeploy") return "Core";
        if (!name.StartsWith("SearchToDeploy.", StringComparison.Ordinal)) return null;
        var parts = name["SearchToDeploy.".Length..].Split('.');
        if (!Rooms.Contains(parts[0])) return null;
        return parts[0] == "Nas" && parts.Length > 1 ? $"Nas/{parts[1]}" : parts[0];
    }

    /// <summary>(from room, to room) for every reference from a library file to a type of another room, with one place it happens.</summary>
    private static Dictionary<(string From, string To), string> Edges()
    {
        var errors = SourceCompilation.Errors; // a reference that does not bind would be no edge
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(10)));
        var compilation = SourceCompilation.Sources;
        var edges = new Dictionary<(string, string), string>();
        string library = SourceCompilation.Library + Path.DirectorySeparatorChar;
        foreach (var tree in compilation.SyntaxTrees.Where(t => t.FilePath.StartsWith(library, StringComparison.Ordinal)))
        {
            var model = compilation.GetSemanticModel(tree);
            string? from = null;
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                if (node is BaseNamespaceDeclarationSyntax ns) from = RoomOf(model.GetDeclaredSymbol(ns) as INamespaceSymbol);
                if (from is null || node is not SimpleNameSyntax name || node.Parent is UsingDirectiveSyntax or QualifiedNameSyntax { Parent: UsingDirectiveSyntax }) continue;
                var symbol = model.GetSymbolInfo(name).Symbol;
                var type = symbol switch { INamedTypeSymbol t => t, IMethodSymbol m => m.ReducedFrom?.ContainingType ?? m.ContainingType, { } s => s.ContainingType, _ => null };
                while (type?.ContainingType is { } outer) type = outer;
                if (type is null || RoomOf(type.ContainingNamespace) is not { } to || to == from) continue;
                edges.TryAdd((from, to), $"{Path.GetRelativePath(SourceCompilation.Root, tree.FilePath)}:{tree.GetLineSpan(node.Span).StartLinePosition.Line + 1} names {type.Name}");
            }
        }
        return edges;
    }
}
