using System.Diagnostics;
using System.Globalization;
using System.Text;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Reporting;

/// <summary>A small labelled DAG: a cell's nodes and op-labelled edges.</summary>
public sealed record CellGraph(string Title, IReadOnlyList<(string Id, string Label, bool IsIo)> Nodes, IReadOnlyList<(string From, string To, string Label)> Edges)
{
    /// <summary>A DARTS-style cell as visualize.py draws it: c_{k-2}, c_{k-1}, nodes 0..n-1, c_{k}.</summary>
    public static CellGraph FromDarts(string title, IReadOnlyList<CellEdge> genes, IReadOnlyList<int> concat)
    {
        int steps = genes.Count / 2;
        var nodes = new List<(string, string, bool)> { ("c_{k-2}", "c_{k-2}", true), ("c_{k-1}", "c_{k-1}", true) };
        for (int i = 0; i < steps; i++) nodes.Add((i.ToString(CultureInfo.InvariantCulture), i.ToString(CultureInfo.InvariantCulture), false));
        nodes.Add(("c_{k}", "c_{k}", true));
        string Name(int input) => input switch { 0 => "c_{k-2}", 1 => "c_{k-1}", _ => (input - 2).ToString(CultureInfo.InvariantCulture) };
        var edges = new List<(string, string, string)>();
        for (int i = 0; i < genes.Count; i++) edges.Add((Name(genes[i].Input), (i / 2).ToString(CultureInfo.InvariantCulture), genes[i].Op));
        foreach (int c in concat) edges.Add((Name(c), "c_{k}", ""));
        return new CellGraph(title, nodes, edges);
    }

    /// <summary>A NAS-Bench-201 cell: nodes 0..3, "none" edges left out.</summary>
    public static CellGraph FromNb201(string title, Nb201Arch arch)
    {
        var nodes = Enumerable.Range(0, Nb201Arch.Nodes).Select(i => (i.ToString(CultureInfo.InvariantCulture), i == 0 ? "in" : i == 3 ? "out" : i.ToString(CultureInfo.InvariantCulture), i is 0 or 3)).ToList();
        var edges = Nb201CellKind.EdgeKeys.Select((k, e) => (k.From.ToString(CultureInfo.InvariantCulture), k.To.ToString(CultureInfo.InvariantCulture), arch.EdgeOps[e]))
            .Where(e => e.Item3 != Nas.Ops.OpRegistry.None).ToList();
        return new CellGraph(title, nodes, edges);
    }

    public string ToDot()
    {
        var sb = new StringBuilder();
        sb.AppendLine("digraph cell {");
        sb.AppendLine("  rankdir=LR;");
        sb.AppendLine($"  label=\"{Title}\"; labelloc=t; fontname=\"Helvetica\";");
        sb.AppendLine("  node [style=\"rounded,filled\", shape=rect, fontname=\"Helvetica\", fontsize=20, height=0.5, width=0.5, penwidth=2];");
        sb.AppendLine("  edge [fontname=\"Helvetica\", fontsize=16];");
        foreach (var (id, label, io) in Nodes)
            sb.AppendLine($"  \"{id}\" [label=\"{label}\", fillcolor={(io ? "darkseagreen2" : "lightblue")}];");
        foreach (var (from, to, label) in Edges)
            sb.AppendLine($"  \"{from}\" -> \"{to}\" [label=\"{label}\", fillcolor=gray];");
        sb.AppendLine("}");
        return sb.ToString();
    }

    /// <summary>
    /// A self-contained SVG arc diagram: the nodes in order on one line (inputs, intermediate nodes, output), each
    /// op edge an arc above the line labelled with its op, each edge into the output (concatenation) an arc below.
    /// </summary>
    public string ToSvg()
    {
        const int gap = 150, nodeW = 86, nodeH = 40, margin = 40;
        var index = Nodes.Select((n, i) => (n.Id, i)).ToDictionary(x => x.Id, x => x.i);
        int Span((string From, string To, string Label) e) => Math.Abs(index[e.To] - index[e.From]);
        double Height((string From, string To, string Label) e) => 34 + 44 * (Span(e) - 1);
        double above = Edges.Where(e => e.Label.Length > 0).Select(Height).DefaultIfEmpty(0).Max();
        double below = Edges.Where(e => e.Label.Length == 0).Select(Height).DefaultIfEmpty(0).Max();
        double lineY = 50 + above + 20;
        int width = margin * 2 + (Nodes.Count - 1) * gap + nodeW;
        int height = (int)(lineY + nodeH / 2.0 + below + 30);
        double X(string id) => margin + nodeW / 2.0 + index[id] * gap;

        var sb = new StringBuilder();
        sb.AppendLine(FormattableString.Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"Helvetica, Arial, sans-serif\">"));
        sb.AppendLine("<defs><marker id=\"arrow\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#555\"/></marker></defs>");
        sb.AppendLine(FormattableString.Invariant($"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>"));
        sb.AppendLine(FormattableString.Invariant($"<text x=\"{width / 2}\" y=\"28\" text-anchor=\"middle\" font-size=\"18\">{Escape(Title)}</text>"));
        var inv = CultureInfo.InvariantCulture;
        foreach (var e in Edges)
        {
            bool up = e.Label.Length > 0;
            double x1 = X(e.From), x2 = X(e.To), h = Height(e) * (up ? -1 : 1);
            double y0 = lineY + (up ? -nodeH / 2.0 : nodeH / 2.0);
            // Cubic curve from the top (bottom) of one node to the top (bottom) of the other; its apex is at 3/4 h.
            sb.AppendLine(string.Format(inv, "<path d=\"M{0:0.#},{1:0.#} C{0:0.#},{2:0.#} {3:0.#},{2:0.#} {3:0.#},{1:0.#}\" stroke=\"#555\" stroke-width=\"1.6\" fill=\"none\" marker-end=\"url(#arrow)\"/>",
                x1 + 8, y0, y0 + h * 4 / 3.0, x2 - 8));
            if (up)
                sb.AppendLine(string.Format(inv, "<text x=\"{0:0.#}\" y=\"{1:0.#}\" text-anchor=\"middle\" font-size=\"12\" fill=\"#222\" paint-order=\"stroke\" stroke=\"white\" stroke-width=\"4\">{2}</text>",
                    (x1 + x2) / 2, y0 + h + 4, Escape(e.Label)));
        }
        foreach (var (id, label, io) in Nodes)
        {
            double x = X(id);
            sb.AppendLine(string.Format(inv, "<rect x=\"{0:0.#}\" y=\"{1:0.#}\" width=\"{2}\" height=\"{3}\" rx=\"10\" fill=\"{4}\" stroke=\"#333\" stroke-width=\"2\"/>", x - nodeW / 2.0, lineY - nodeH / 2.0, nodeW, nodeH, io ? "#d5ecd4" : "#cde4f7"));
            sb.AppendLine(string.Format(inv, "<text x=\"{0:0.#}\" y=\"{1:0.#}\" text-anchor=\"middle\" font-size=\"16\">{2}</text>", x, lineY + 5, Escape(label)));
        }
        sb.AppendLine("</svg>");
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>Writes &lt;stem&gt;.dot and &lt;stem&gt;.svg, and &lt;stem&gt;.png when Graphviz's dot is installed.</summary>
    public void Save(string stem)
    {
        AtomicFile.WriteAllText(stem + ".dot", ToDot());
        AtomicFile.WriteAllText(stem + ".svg", ToSvg());
        TryRenderPng(stem + ".dot", stem + ".png");
    }

    /// <summary>
    /// The PNG drawing through Graphviz's dot where it is installed: written under a temporary name and renamed, dot
    /// stopped after 10 s; when it fails, no PNG of an earlier cell is left under the name.
    /// </summary>
    private static void TryRenderPng(string dot, string png)
    {
        string tmp = Core.Io.AtomicFile.TempPathFor(png);
        bool drawn = false;
        try
        {
            using var p = Process.Start(new ProcessStartInfo("dot", ["-Tpng", dot, "-o", tmp])
            {
                RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
            });
            if (p is null) return;
            _ = p.StandardOutput.ReadToEndAsync(); // drained, so that dot never blocks on a full pipe
            _ = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(10_000))
            {
                p.Kill(entireProcessTree: true);
                return;
            }
            if (p.ExitCode == 0 && File.Exists(tmp))
            {
                File.Move(tmp, png, overwrite: true);
                drawn = true;
            }
        }
        catch (System.ComponentModel.Win32Exception) { /* Graphviz not installed: the SVG is the drawing */ }
        finally
        {
            Core.Io.AtomicFile.TryDelete(tmp);
            if (!drawn) Core.Io.AtomicFile.TryDelete(png);
        }
    }
}
