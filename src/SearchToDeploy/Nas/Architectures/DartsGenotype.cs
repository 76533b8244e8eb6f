using System.Globalization;
using System.Text;
using SearchToDeploy.Nas.Ops;

namespace SearchToDeploy.Nas.Architectures;

/// <summary>
/// A DARTS-space architecture: two chosen edges per intermediate node for the normal and the reduction cell, and
/// the nodes concatenated into the cell output. Prints and parses the published
/// <c>Genotype(normal=[('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[...])</c>.
/// </summary>
public sealed record DartsGenotype(IReadOnlyList<CellEdge> Normal, IReadOnlyList<int> NormalConcat,
    IReadOnlyList<CellEdge> Reduce, IReadOnlyList<int> ReduceConcat)
{
    /// <summary>Intermediate nodes per cell (two edges each).</summary>
    public int Steps => Normal.Count / 2;

    public IReadOnlyList<CellEdge> Cell(bool reduction) => reduction ? Reduce : Normal;
    public IReadOnlyList<int> Concat(bool reduction) => reduction ? ReduceConcat : NormalConcat;

    public override string ToString()
    {
        static string Edges(IReadOnlyList<CellEdge> e) => "[" + string.Join(", ", e.Select(x => $"('{x.Op}', {x.Input})")) + "]";
        static string Ints(IReadOnlyList<int> v) => "[" + string.Join(", ", v) + "]";
        return $"Genotype(normal={Edges(Normal)}, normal_concat={Ints(NormalConcat)}, reduce={Edges(Reduce)}, reduce_concat={Ints(ReduceConcat)})";
    }

    public bool Equals(DartsGenotype? other) => other is not null && ToString() == other.ToString();
    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);

    /// <summary>Checks the structure; the message points at the problem.</summary>
    public void Validate(string source = "genotype")
    {
        foreach (var (name, edges, concat) in new[] { ("normal", Normal, NormalConcat), ("reduce", Reduce, ReduceConcat) })
        {
            if (edges.Count == 0 || edges.Count % 2 != 0)
                throw new InputException($"{source}: {name} has {edges.Count} edges; expected two per intermediate node");
            if (edges.Count != Normal.Count)
                throw new InputException($"{source}: normal and reduce cells have different node counts ({Normal.Count / 2} and {Reduce.Count / 2})");
            for (int i = 0; i < edges.Count; i++)
            {
                var e = edges[i];
                int node = i / 2;
                if (!OpRegistry.IsDartsOp(e.Op))
                    throw new InputException($"{source}: {name}[{i}] op '{e.Op}' is not a DARTS-space op; expected one of {string.Join(", ", OpRegistry.DartsNames)}");
                if (e.Input < 0 || e.Input >= node + 2)
                    throw new InputException($"{source}: {name}[{i}] ('{e.Op}', {e.Input}) feeds node {node + 2}, whose inputs are 0..{node + 1}");
            }
            if (concat.Count == 0) throw new InputException($"{source}: {name}_concat is empty");
            foreach (int c in concat)
                if (c < 0 || c >= edges.Count / 2 + 2)
                    throw new InputException($"{source}: {name}_concat has {c}; expected node indices 0..{edges.Count / 2 + 1}");
        }
    }

    /// <summary>Parses the published string form (lists or <c>range(a, b)</c> for the concats; either quote style).</summary>
    public static DartsGenotype Parse(string text)
    {
        var p = new Parser(text);
        var g = p.ParseGenotype();
        g.Validate("genotype string");
        return g;
    }

    private sealed class Parser(string text)
    {
        private int _pos;

        public DartsGenotype ParseGenotype()
        {
            SkipSpace();
            Expect("Genotype");
            Expect("(");
            var fields = new Dictionary<string, object>();
            while (true)
            {
                string name = Identifier();
                if (fields.ContainsKey(name)) Fail($"field '{name}' given twice");
                Expect("=");
                fields[name] = name.EndsWith("_concat", StringComparison.Ordinal) ? IntList() : EdgeList();
                if (TryTake(",")) { if (Peek() == ')') break; continue; }
                break;
            }
            Expect(")");
            SkipSpace();
            if (_pos != text.Length) Fail("unexpected text after the closing ')'");
            foreach (var required in new[] { "normal", "normal_concat", "reduce", "reduce_concat" })
                if (!fields.ContainsKey(required)) throw new InputException($"genotype string: missing field '{required}'");
            foreach (var key in fields.Keys)
                if (key is not ("normal" or "normal_concat" or "reduce" or "reduce_concat"))
                    throw new InputException($"genotype string: unknown field '{key}'; expected normal, normal_concat, reduce, reduce_concat");
            return new DartsGenotype((List<CellEdge>)fields["normal"], (List<int>)fields["normal_concat"],
                (List<CellEdge>)fields["reduce"], (List<int>)fields["reduce_concat"]);
        }

        private List<CellEdge> EdgeList()
        {
            var list = new List<CellEdge>();
            Expect("[");
            while (!TryTake("]"))
            {
                Expect("(");
                string op = QuotedString();
                Expect(",");
                int input = Integer();
                Expect(")");
                list.Add(new CellEdge(op, input));
                if (!TryTake(",")) { Expect("]"); break; }
            }
            return list;
        }

        private List<int> IntList()
        {
            SkipSpace();
            if (TryTake("range"))
            {
                Expect("(");
                int a = Integer();
                Expect(",");
                int b = Integer();
                Expect(")");
                if (b <= a) Fail($"range({a}, {b}) is empty");
                return [.. Enumerable.Range(a, b - a)];
            }
            var list = new List<int>();
            Expect("[");
            while (!TryTake("]"))
            {
                list.Add(Integer());
                if (!TryTake(",")) { Expect("]"); break; }
            }
            return list;
        }

        private string QuotedString()
        {
            SkipSpace();
            char q = Peek();
            if (q != '\'' && q != '"') Fail("expected a quoted op name");
            int start = ++_pos;
            while (_pos < text.Length && text[_pos] != q) _pos++;
            if (_pos >= text.Length) Fail("unterminated string");
            return text[start.._pos++];
        }

        private int Integer()
        {
            SkipSpace();
            int start = _pos;
            while (_pos < text.Length && char.IsAsciiDigit(text[_pos])) _pos++;
            if (start == _pos) Fail("expected a non-negative integer");
            return int.Parse(text.AsSpan(start, _pos - start), CultureInfo.InvariantCulture);
        }

        private string Identifier()
        {
            SkipSpace();
            int start = _pos;
            while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
            if (start == _pos) Fail("expected a field name (normal, normal_concat, reduce, reduce_concat)");
            return text[start.._pos];
        }

        private void Expect(string token)
        {
            if (!TryTake(token)) Fail($"expected '{token}'");
        }

        private bool TryTake(string token)
        {
            SkipSpace();
            if (string.CompareOrdinal(text, _pos, token, 0, token.Length) != 0) return false;
            _pos += token.Length;
            return true;
        }

        private char Peek()
        {
            SkipSpace();
            return _pos < text.Length ? text[_pos] : '\0';
        }

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++;
        }

        private void Fail(string what)
        {
            var sb = new StringBuilder($"genotype string: at character {_pos + 1}: {what}");
            string found = _pos < text.Length ? text.Substring(_pos, Math.Min(20, text.Length - _pos)) : "end of text";
            sb.Append($", found '{found}'");
            throw new InputException(sb.ToString());
        }
    }
}
