using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace SearchToDeploy.Tests.Core;

/// <summary>
/// No code in src/ may call a TorchSharp method that makes an implicit Scalar it never disposes (a GC during the
/// native call can free it while libtorch reads it; docs/torch-notes.md). The forbidden set is read from TorchSharp's
/// own IL (methods that call Scalar.op_Implicit without Scalar.Dispose, and every TorchSharp method that calls one of
/// them); the call sites come from compiling src/ with Roslyn. A conversion written in our code (a number passed where
/// a Scalar is expected) is forbidden too.
/// </summary>
public sealed class ImplicitScalarTests
{
    [Fact]
    public void No_source_file_lets_TorchSharp_make_an_implicit_scalar()
    {
        var forbidden = ForbiddenTorchSharpMethods();
        Assert.Contains("TorchSharp.torch+Tensor::op_Addition(Tensor,Tensor)", forbidden); // the scan sees what it must
        Assert.Contains("TorchSharp.torch+Tensor::op_Multiply(Tensor,Double)", forbidden);
        Assert.DoesNotContain("TorchSharp.torch+Tensor::add(Tensor,Scalar)", forbidden);

        var errors = SourceCompilation.Errors; // every call binds, or the scan would pass over what it cannot see
        Assert.True(errors.Count == 0, string.Join("\n", errors.Take(10)));
        var found = new List<string>();
        var compilation = SourceCompilation.Sources;
        foreach (var tree in compilation.SyntaxTrees)
        {
            var model = compilation.GetSemanticModel(tree);
            foreach (var node in tree.GetRoot().DescendantNodes())
            {
                string? what = null;
                if (node is InvocationExpressionSyntax or BinaryExpressionSyntax or AssignmentExpressionSyntax or PrefixUnaryExpressionSyntax
                    // Built-in pointer operators (unsafe kernels) have no containing type and are never TorchSharp's.
                    && model.GetSymbolInfo(node).Symbol is IMethodSymbol { ContainingType: not null } m && forbidden.Contains(Key(m)))
                    what = Key(m);
                else if (node is ExpressionSyntax e && model.GetConversion(e) is { IsUserDefined: true, MethodSymbol.ContainingType.Name: "Scalar" } c
                         && c.MethodSymbol!.ContainingNamespace.ToString() == "TorchSharp")
                    what = "an implicit conversion to Scalar";
                if (what is not null)
                    found.Add($"{Path.GetRelativePath(SourceCompilation.Root, tree.FilePath)}:{tree.GetLineSpan(node.Span).StartLinePosition.Line + 1}: {node} ({what})");
            }
        }
        Assert.True(found.Count == 0, "use SearchToDeploy.Core.Torch.TensorSums or an explicit `using var s = x.ToScalar();`:\n" + string.Join("\n", found));
    }

    /// <summary>TorchSharp methods that make an undisposed implicit Scalar, directly or through other TorchSharp methods.</summary>
    private static HashSet<string> ForbiddenTorchSharpMethods()
    {
        var asm = typeof(TorchSharp.Scalar).Assembly;
        var calls = new Dictionary<string, List<string>>();
        var direct = new HashSet<string>();
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (var type in asm.GetTypes())
            foreach (var m in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                byte[]? il;
                try { il = m.GetMethodBody()?.GetILAsByteArray(); } catch (Exception e) when (e is InvalidOperationException or BadImageFormatException) { continue; }
                if (il is null) continue;
                bool makes = false, disposes = false;
                var callees = new List<string>();
                for (int i = 0; i < il.Length - 4; i++)
                {
                    if (il[i] is not (0x28 or 0x6F or 0x73)) continue; // call, callvirt, newobj
                    MethodBase? callee;
                    try { callee = m.Module.ResolveMethod(BitConverter.ToInt32(il, i + 1)); } catch (ArgumentException) { continue; }
                    if (callee?.DeclaringType is null) continue;
                    i += 4;
                    if (callee.DeclaringType == typeof(TorchSharp.Scalar) && callee.Name == "op_Implicit") makes = true;
                    if (callee.DeclaringType == typeof(TorchSharp.Scalar) && callee.Name == "Dispose") disposes = true;
                    if (callee.DeclaringType.Assembly == asm) callees.Add(Key(callee));
                }
                calls[Key(m)] = callees;
                if (makes && !disposes) direct.Add(Key(m));
            }
        var bad = new HashSet<string>(direct);
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var (k, list) in calls)
                if (!bad.Contains(k) && list.Any(bad.Contains)) { bad.Add(k); changed = true; }
        }
        return bad;
    }

    private static string Key(MethodBase m) => $"{m.DeclaringType!.FullName}::{m.Name}({string.Join(",", m.GetParameters().Select(p => p.ParameterType.Name))})";

    private static string Key(IMethodSymbol m)
    {
        m = (m.ReducedFrom ?? m).OriginalDefinition;
        return $"{TypeName(m.ContainingType)}::{m.MetadataName}({string.Join(",", m.Parameters.Select(p => ShortName(p.Type)))})";
    }

    /// <summary>As reflection's FullName: Namespace.Outer+Nested.</summary>
    private static string TypeName(INamedTypeSymbol t) =>
        t.ContainingType is { } outer ? $"{TypeName(outer)}+{t.MetadataName}" : $"{t.ContainingNamespace}.{t.MetadataName}";

    /// <summary>As reflection's Name: Double, Tensor, Nullable`1, Int64[].</summary>
    private static string ShortName(ITypeSymbol t) => t is IArrayTypeSymbol a ? ShortName(a.ElementType) + "[]" : t.MetadataName;
}
