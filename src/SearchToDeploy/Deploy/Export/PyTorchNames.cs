using SearchToDeploy.Nas.Networks;

namespace SearchToDeploy.Deploy.Export;

/// <summary>
/// State-dict names of the DARTS reference code (the <c>NetworkCIFAR</c> and <c>NetworkImageNet</c> of DARTS's
/// <c>model.py</c> and the ops of its <c>operations.py</c>, which PC-DARTS and RF-DARTS reuse) for the retraining networks
/// of the DARTS-style spaces, so a PyTorch re-implementation of the same genotype loads the weights with
/// <c>load_state_dict(strict=True)</c>: <c>stem0</c> is <c>stem</c> on CIFAR, <c>ops</c> is <c>_ops</c>, a ReLUConvBN's
/// conv and BN are <c>op.1</c>/<c>op.2</c>, a DilConv's <c>op.1-3</c>, a SepConv's <c>op.1-3</c> and <c>op.5-7</c>,
/// FactorizedReduce keeps <c>conv_1</c>/<c>conv_2</c>/<c>bn</c>, and the auxiliary head is <c>auxiliary_head</c> with
/// its ReLU and pooling counted in <c>features</c>. The 64-px ImageNet network is DARTS's <c>NetworkImageNet</c> with
/// other stem strides; NAS-Bench-201 networks keep s2d's names. A name no rule covers is an error, never a guess.
/// </summary>
public static class PyTorchNames
{
    /// <summary>Whether <paramref name="kind"/> gets the DARTS reference names (else s2d's own).</summary>
    public static bool HasReference(NetworkKind kind) => kind is NetworkKind.Cifar or NetworkKind.ImageNet or NetworkKind.ImageNet64;

    /// <summary>Each of <paramref name="names"/> (a whole state dict's, so FactorizedReduce is told from ReLUConvBN) to its reference name.</summary>
    public static Dictionary<string, string> Map(IReadOnlyCollection<string> names, NetworkKind kind)
    {
        if (!HasReference(kind)) return names.ToDictionary(n => n, n => n);
        var factorized = names.Where(n => n.Contains(".conv_1.")).Select(n => n[..n.IndexOf(".conv_1.", StringComparison.Ordinal)]).ToHashSet();
        return names.ToDictionary(n => n, n => One(n, kind, factorized));
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
