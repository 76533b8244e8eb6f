using SearchToDeploy.Nas.Networks;

namespace SearchToDeploy.Deploy.Export;

/// <summary>
/// State-dict names of the reference code, so that a PyTorch re-implementation of the same genotype loads the weights
/// with <c>load_state_dict(strict=True)</c>. DARTS-style spaces: the <c>NetworkCIFAR</c> and <c>NetworkImageNet</c> of
/// DARTS's <c>model.py</c> and the ops of its <c>operations.py</c> (which PC-DARTS and RF-DARTS reuse): <c>stem0</c> is
/// <c>stem</c> on CIFAR, <c>ops</c> is <c>_ops</c>, a ReLUConvBN's conv and BN are <c>op.1</c>/<c>op.2</c>, a DilConv's
/// <c>op.1-3</c>, a SepConv's <c>op.1-3</c> and <c>op.5-7</c>, FactorizedReduce keeps <c>conv_1</c>/<c>conv_2</c>/<c>bn</c>,
/// and the auxiliary head is <c>auxiliary_head</c> with its ReLU and pooling counted in <c>features</c>. NAS-Bench-201:
/// xautodl's <c>TinyNetwork</c> (<c>cells.k</c>, an <c>InferCell</c>'s <c>layers.e</c> in edge order, a ReLUConvBN's
/// <c>op.1</c>/<c>op.2</c>, <c>ResNetBasicblock</c>'s <c>conv_a</c>/<c>conv_b</c>/<c>downsample.1</c>). The 64-px
/// networks have no reference network of their own: they take the same names, and <see cref="Convention"/> says what
/// differs. A name no rule covers is an error, never a guess.
/// </summary>
public static class PyTorchNames
{
    /// <summary>
    /// The naming convention of <paramref name="kind"/>'s exported weights, as the file's metadata records it: the
    /// reference network they load into, and for the 64-px networks what that network needs changed.
    /// </summary>
    public static string Convention(NetworkKind kind) => kind switch
    {
        NetworkKind.Cifar or NetworkKind.ImageNet => "darts-reference",
        // Cell 0 follows a stride-1 stem: its preprocess0 is a ReLUConvBN (reduction_prev=False), and the auxiliary head is AuxiliaryHeadCIFAR.
        NetworkKind.ImageNet64 => "darts-reference-64px",
        NetworkKind.Nb201 => "xautodl-reference",
        // The stem convolution has stride 2.
        _ => "xautodl-reference-64px",
    };

    /// <summary>Each of <paramref name="names"/> (a whole state dict's, so FactorizedReduce is told from ReLUConvBN) to its reference name.</summary>
    public static Dictionary<string, string> Map(IReadOnlyCollection<string> names, NetworkKind kind)
    {
        if (RetrainNetwork.IsNb201(kind)) return names.ToDictionary(n => n, Nb201);
        var factorized = names.Where(n => n.Contains(".conv_1.")).Select(n => n[..n.IndexOf(".conv_1.", StringComparison.Ordinal)]).ToHashSet();
        return names.ToDictionary(n => n, n => One(n, kind, factorized));
    }

    /// <summary>A NAS-Bench-201 network's name as xautodl's TinyNetwork has it.</summary>
    private static string Nb201(string name)
    {
        var p = name.Split('.');
        string Fail() => throw new InvalidOperationException($"no xautodl reference name for the parameter '{name}'");
        // A ReLUConvBN's conv and BN are the 2nd and 3rd modules of its Sequential (the ReLU is the 1st).
        string Op(string part, string rest) => part switch { "conv" => $"op.1.{rest}", "bn" => $"op.2.{rest}", _ => Fail() };
        switch (p[0])
        {
            case "stem" or "lastact" or "classifier": return name;
            case "body" when p.Length > 4 && p[2] == "edges": return $"cells.{p[1]}.layers.{p[3]}.{Op(p[4], string.Join('.', p[5..]))}";
            case "body" when p.Length > 3 && p[2] is "conv_a" or "conv_b": return $"cells.{p[1]}.{p[2]}.{Op(p[3], string.Join('.', p[4..]))}";
            case "body" when p.Length > 3 && p[2] == "downsample": return "cells." + string.Join('.', p[1..]);
            default: return Fail();
        }
    }

    private static string One(string name, NetworkKind kind, HashSet<string> factorized)
    {
        var p = name.Split('.');
        string Fail() => throw new InvalidOperationException($"no DARTS reference name for the parameter '{name}'");
        switch (p[0])
        {
            case "stem0" when kind == NetworkKind.Cifar: return "stem." + string.Join('.', p[1..]);
            case "stem0" or "stem1" or "classifier": return name;
            case "auxiliary" when p.Length > 2 && p[1] == "features" && int.TryParse(p[2], out int j):
                return $"auxiliary_head.features.{j + 2}.{string.Join('.', p[3..])}";
            case "auxiliary" when p.Length > 1 && p[1] == "classifier": return "auxiliary_head." + string.Join('.', p[1..]);
            case "cells" when p.Length > 3 && p[2] is "preprocess0" or "preprocess1":
            {
                string prefix = string.Join('.', p[..3]), tail = string.Join('.', p[4..]);
                if (factorized.Contains(prefix)) return name;
                return p[3] switch { "conv" => $"{prefix}.op.1.{tail}", "bn" => $"{prefix}.op.2.{tail}", _ => Fail() };
            }
            case "cells" when p.Length > 4 && p[2] == "ops":
            {
                string prefix = $"cells.{p[1]}._ops.{p[3]}";
                var rest = p[4..];
                if (factorized.Contains(string.Join('.', p[..4]))) return $"{prefix}.{string.Join('.', rest)}";
                string Stage(string part, int first) => part switch
                {
                    "depthwise" => (first + 0).ToString(),
                    "pointwise" => (first + 1).ToString(),
                    "bn" => (first + 2).ToString(),
                    _ => Fail(),
                };
                return rest[0] switch
                {
                    "first" when rest.Length > 2 => $"{prefix}.op.{Stage(rest[1], 1)}.{string.Join('.', rest[2..])}",
                    "second" when rest.Length > 2 => $"{prefix}.op.{Stage(rest[1], 5)}.{string.Join('.', rest[2..])}",
                    "depthwise" or "pointwise" or "bn" => $"{prefix}.op.{Stage(rest[0], 1)}.{string.Join('.', rest[1..])}",
                    _ => Fail(),
                };
            }
            default: return Fail();
        }
    }
}
