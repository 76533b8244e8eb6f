using SearchToDeploy.Nas.Ops;

namespace SearchToDeploy.Nas.Architectures;

/// <summary>
/// A NAS-Bench-201 cell: for nodes 1..3, the op on the edge from every earlier node. Prints and parses the
/// benchmark's string, e.g. <c>|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|</c>.
/// Edge order (α rows) is 1&lt;-0, 2&lt;-0, 2&lt;-1, 3&lt;-0, 3&lt;-1, 3&lt;-2.
/// </summary>
public sealed record Nb201Arch(IReadOnlyList<string> EdgeOps)
{
    public const int Nodes = 4;
    public const int EdgeCount = 6;

    public static int EdgeIndex(int to, int from) => to * (to - 1) / 2 + from;

    public override string ToString() =>
        string.Join("+", Enumerable.Range(1, Nodes - 1).Select(i =>
            "|" + string.Join("|", Enumerable.Range(0, i).Select(j => $"{EdgeOps[EdgeIndex(i, j)]}~{j}")) + "|"));

    public bool Equals(Nb201Arch? other) => other is not null && ToString() == other.ToString();
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

    public static Nb201Arch Parse(string text)
    {
        string s = text.Trim();
        var nodes = s.Split('+');
        if (nodes.Length != Nodes - 1)
            throw new InputException($"NAS-Bench-201 arch '{text}': {nodes.Length} node groups separated by '+'; expected 3 (|op~0|+|op~0|op~1|+|op~0|op~1|op~2|)");
        var ops = new string[EdgeCount];
        for (int i = 1; i < Nodes; i++)
        {
            string node = nodes[i - 1];
            if (node.Length < 2 || node[0] != '|' || node[^1] != '|')
                throw new InputException($"NAS-Bench-201 arch '{text}': node {i} group '{node}' must start and end with '|'");
            var entries = node[1..^1].Split('|');
            if (entries.Length != i)
                throw new InputException($"NAS-Bench-201 arch '{text}': node {i} has {entries.Length} inputs; expected {i} (one from each earlier node)");
            for (int j = 0; j < i; j++)
            {
                var parts = entries[j].Split('~');
                if (parts.Length != 2 || !int.TryParse(parts[1], out int from))
                    throw new InputException($"NAS-Bench-201 arch '{text}': node {i} entry '{entries[j]}' is not op~index");
                if (from != j)
                    throw new InputException($"NAS-Bench-201 arch '{text}': node {i} entry '{entries[j]}' has input {from}; expected {j} (inputs in order 0..{i - 1})");
                if (!OpRegistry.IsNb201Op(parts[0]))
                    throw new InputException($"NAS-Bench-201 arch '{text}': unknown op '{parts[0]}'; expected one of {string.Join(", ", OpRegistry.Nb201)}");
                ops[EdgeIndex(i, j)] = parts[0];
            }
        }
        return new Nb201Arch(ops);
    }
}
