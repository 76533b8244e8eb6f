using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Spaces;

namespace SearchToDeploy.Tests.Nas;

public sealed class GenotypeRoundTripTests
{
    /// <summary>DARTS_V2 from quark0/darts genotypes.py, as published (range concats).</summary>
    public const string DartsV2 = "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), " +
        "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=range(2, 6), " +
        "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), " +
        "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=range(2, 6))";

    internal static Architecture Reparse(Architecture a) => Architecture.ParseText(a.Text, a.Space);

    [Fact]
    public void Darts_string_parses_prints_and_parses_back()
    {
        var g = DartsGenotype.Parse(DartsV2);
        Assert.Equal(8, g.Normal.Count);
        Assert.Equal(new CellEdge("dil_conv_3x3", 2), g.Normal[7]);
        Assert.Equal([2, 3, 4, 5], g.ReduceConcat);
        string printed = g.ToString();
        Assert.StartsWith("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)", printed);
        Assert.Contains("normal_concat=[2, 3, 4, 5]", printed);
        Assert.Equal(g, DartsGenotype.Parse(printed));
        Assert.Equal(g, DartsGenotype.Parse(printed.Replace('\'', '"')));
    }

    [Fact]
    public void Nb201_string_parses_and_prints_back()
    {
        const string best = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|";
        var a = Nb201Arch.Parse(best);
        Assert.Equal(best, a.ToString());
        Assert.Equal("skip_connect", a.EdgeOps[Nb201Arch.EdgeIndex(3, 0)]);
        Assert.Equal("nor_conv_1x1", a.EdgeOps[Nb201Arch.EdgeIndex(3, 2)]);
    }

    /// <summary>The edge order is written twice: as the kind's (to, from) list (Spaces comes before Architectures, so
    /// the kind cannot call the arch) and as the arch's index formula. They must agree.</summary>
    [Fact]
    public void Nb201_edge_keys_and_edge_index_agree()
    {
        Assert.Equal(Nb201Arch.EdgeCount, Nb201CellKind.EdgeKeys.Count);
        for (int e = 0; e < Nb201Arch.EdgeCount; e++)
            Assert.Equal(e, Nb201Arch.EdgeIndex(Nb201CellKind.EdgeKeys[e].To, Nb201CellKind.EdgeKeys[e].From));
    }

    [Fact]
    public void Genotype_json_round_trips_and_carries_provenance()
    {
        using var dir = new TempDir();
        var darts = Architecture.FromCell("s3", DartsGenotype.Parse(DartsV2));
        var doc = GenotypeDocument.Of(darts).With("search", new Dictionary<string, object?> { ["method"] = "rf-darts", ["seed"] = 2 });
        GenotypeFile.Save(dir["g.json"], doc);
        var back = GenotypeFile.LoadDocument(dir["g.json"]);
        Assert.Equal(darts.Text, back.Architecture.Text);
        Assert.Equal("s3", back.Architecture.Space);
        Assert.Equal("rf-darts", back.Stage("search")!["method"]!.GetValue<string>());
        Assert.Equal(doc.ToJson(), back.ToJson());
        // Each stage appends: the earlier entries are kept as they were.
        var later = back.With("train", new Dictionary<string, object?> { ["epochs"] = 3 });
        Assert.Equal(["search", "train"], later.Provenance.Select(p => p["stage"]!.GetValue<string>()));
        Assert.Single(back.Provenance);

        // NAS-Bench-201 cells share the schema: their six edges as [op, input] pairs.
        var nb = Architecture.FromNb201(Nb201Arch.Parse("|skip_connect~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|skip_connect~1|none~2|"));
        GenotypeFile.Save(dir["n.json"], GenotypeDocument.Of(nb));
        Assert.Contains("\"normal\": [", File.ReadAllText(dir["n.json"]));
        Assert.DoesNotContain("\"arch\"", File.ReadAllText(dir["n.json"]));
        Assert.Equal(nb.Text, GenotypeFile.LoadFileOrText(dir["n.json"]).Architecture.Text);
        Assert.Equal(nb.Text, GenotypeFile.LoadFileOrText(nb.Text).Architecture.Text);
        Assert.Equal(SpaceKind.Nb201, GenotypeFile.LoadFileOrText(nb.Text).Architecture.Kind);
    }

    [Theory]
    [InlineData("Genotype(normal=[('sep_conv_3x3', 0)", "at character")]
    [InlineData("Genotype(normal=[('sep_conv_9x9', 0), ('skip_connect', 1)], normal_concat=[2], reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2])", "'sep_conv_9x9' is not a DARTS-space op")]
    [InlineData("Genotype(normal=[('skip_connect', 0), ('skip_connect', 3)], normal_concat=[2], reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2])", "feeds node 2, whose inputs are 0..1")]
    [InlineData("Genotype(normal=[('skip_connect', 0), ('skip_connect', 1)], reduce=[('skip_connect', 0), ('skip_connect', 1)], reduce_concat=[2])", "missing field 'normal_concat'")]
    [InlineData("Genotype(normal=[('skip_connect' 0)], normal_concat=[2], reduce=[], reduce_concat=[2])", "expected ','")]
    [InlineData("|nor_conv_3x3~0|+|nor_conv_3x3~0|", "2 node groups separated by '+'; expected 3")]
    [InlineData("|nor_conv_3x3~0|+|nor_conv_3x3~1|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|none~2|", "has input 1; expected 0")]
    [InlineData("|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'conv_7x7'")]
    [InlineData("resnet", "expected a genotype.json file")]
    public void Malformed_strings_are_refused_with_a_pointer_to_the_problem(string text, string message)
    {
        var e = Assert.Throws<InputException>(() => GenotypeFile.LoadFileOrText(text));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Genotype_file_whose_string_disagrees_with_its_cell_is_refused()
    {
        using var dir = new TempDir();
        GenotypeFile.Save(dir["g.json"], GenotypeDocument.Of(Architecture.FromCell("darts", DartsGenotype.Parse(DartsV2))));
        File.WriteAllText(dir["g.json"], File.ReadAllText(dir["g.json"]).Replace("('dil_conv_3x3', 2)", "('dil_conv_5x5', 2)"));
        Assert.Contains("disagrees", Assert.Throws<InputException>(() => GenotypeFile.Load(dir["g.json"])).Message);
        File.WriteAllText(dir["bad.json"], "{ not json");
        Assert.Contains("not valid JSON", Assert.Throws<InputException>(() => GenotypeFile.Load(dir["bad.json"])).Message);
    }

    [Fact]
    public void Version_1_files_still_load()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir["v1.json"], """
            { "format": "s2d-genotype", "version": 1, "space": "nas-bench-201", "genotype": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
              "arch": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
              "provenance": { "method": "rf-pcdarts", "seed": 2 } }
            """);
        var doc = GenotypeFile.LoadDocument(dir["v1.json"]);
        Assert.Equal(KnownGenotypes.Nb201Best, doc.Architecture.Text);
        Assert.Equal("rf-pcdarts", doc.Stage("search")!["method"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("\"format\": 5", "\"format\" must be a string, not number")]
    [InlineData("\"version\": \"1\"", "version must be a whole number, not string")]
    [InlineData("\"space\": 3", "\"space\" must be a string, not number")]
    [InlineData("\"normal\": [[null, 0]]", "normal[0] must be an [op, input] pair")]
    [InlineData("\"normal\": [[\"skip_connect\", null]]", "normal[0]'s input must be a whole number, not null")]
    [InlineData("\"normal_concat\": [2, null]", "normal_concat[1] must be a whole number, not null")]
    [InlineData("\"provenance\": 7", "\"provenance\" is neither a list")]
    public void Wrong_json_types_are_refused_naming_the_file_and_the_field(string replacement, string message)
    {
        using var dir = new TempDir();
        var doc = GenotypeDocument.Of(Architecture.FromCell("darts", DartsGenotype.Parse(DartsV2)));
        string json = doc.ToJson();
        string key = replacement[..(replacement.IndexOf(':'))];
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        node[key.Trim('"')] = System.Text.Json.Nodes.JsonNode.Parse(replacement[(replacement.IndexOf(':') + 1)..]);
        File.WriteAllText(dir["g.json"], node.ToJsonString());
        var e = Assert.Throws<InputException>(() => GenotypeFile.Load(dir["g.json"]));
        Assert.Contains(dir["g.json"], e.Message);
        Assert.Contains(message, e.Message);
    }
}
