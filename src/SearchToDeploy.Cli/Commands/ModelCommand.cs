using System.CommandLine;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;
using TorchSharp;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d model info</c>: the size of the network a genotype builds, before any training.</summary>
public static class ModelCommand
{
    public static Command Create(CliIo io)
    {
        var cmd = new Command("model", "Inspect the networks built from genotypes");
        var info = new Command("info", "Parameters (auxiliary head excluded, as published) and multiply-adds of the network a genotype builds");
        var genotype = CommonOptions.Genotype();
        var network = CommonOptions.Network();
        var channels = new Option<long?>("--channels") { Description = "Initial channels C (default: the published size of --network)" };
        var layers = new Option<int?>("--layers") { Description = "Cells (per stage for nb201) (default: the published size)" };
        var classes = new Option<long?>("--classes") { Description = "Classes (default: 1000 for imagenet, else 10)" };
        var imageSize = new Option<int?>("--image-size") { Description = "Input size the network is trained at (default: its design size: 224 for imagenet, 64 for imagenet-64, else 32)" };
        var maxMadds = CommonOptions.MaxMadds();
        foreach (var o in new Option[] { genotype, network, channels, layers, classes, imageSize, maxMadds }) info.Options.Add(o);
        info.SetAction(r => io.Guard(() =>
        {
            var arch = CommonOptions.LoadGenotype(r.GetValue(genotype)!).Architecture;
            var kind = r.GetValue(network) is { } n ? RetrainNetwork.ParseKind(n) : NetworkConfig.DefaultKind(arch, smallImages: true);
            var paper = NetworkConfig.Paper(kind, r.GetValue(classes) ?? (RetrainNetwork.IsImageNet(kind) ? 1000 : 10));
            var cfg = paper with { Channels = r.GetValue(channels) ?? paper.Channels, Layers = r.GetValue(layers) ?? paper.Layers };
            int trained = r.GetValue(imageSize) ?? NetworkConfig.DesignSize(kind);
            torch.manual_seed(0);
            using var net = NetworkFactory.Create(arch, cfg);
            var size = ModelSize.Measure(net, trained);
            io.Out.WriteLine($"architecture: {arch.Text}");
            io.Out.WriteLine($"network: {RetrainNetwork.KindName(kind)}, C={cfg.Channels}, {(RetrainNetwork.IsNb201(kind) ? $"{cfg.Layers} cells per stage" : $"{cfg.Layers} cells")}, {cfg.Classes} classes");
            io.Out.WriteLine($"parameters: {size.Parameters:N0} ({size.Parameters / 1e6:0.###}M; auxiliary head {size.AuxiliaryParameters:N0} more)");
            io.Out.WriteLine($"multiply-adds: {size.MultiplyAdds:N0} ({size.MultiplyAdds / 1e6:0.#}M) at {trained}x{trained}");
            io.Out.WriteLine($"cell maps at {trained}x{trained}: {string.Join(", ", NetworkConfig.StageMaps(kind, trained).Select(m => $"{m}x{m}"))} (the three stages)");
            long madds = size.MultiplyAdds;
            if (kind == NetworkKind.ImageNet && trained != 224)
            {
                // The mobile setting is defined at 224 px: report that size too.
                madds = ModelSize.Measure(net, 224).MultiplyAdds;
                io.Out.WriteLine($"multiply-adds at 224x224 (the mobile setting's resolution): {madds:N0} ({madds / 1e6:0.#}M)");
            }
            if (kind == NetworkKind.ImageNet)
                io.Out.WriteLine($"mobile setting (under 600M multiply-adds at 224x224): {(madds < 600_000_000 ? "within" : "over")}");
            if (r.GetValue(maxMadds) is { } limit && madds > limit * 1e6)
            {
                io.Err.WriteLine($"error: {madds / 1e6:0.0}M multiply-adds exceed --max-madds {limit}M");
                return S2dApp.BadInput;
            }
            return S2dApp.Success;
        }));
        cmd.Subcommands.Add(info);
        cmd.Subcommands.Add(Random(io));
        return cmd;
    }

    /// <summary><c>s2d model random</c>: a cell drawn at random from a space with a seed (the baseline searched cells must beat).</summary>
    private static Command Random(CliIo io)
    {
        var cmd = new Command("random", "Draw a cell uniformly at random from a search space (seeded): print it, and with --out write it as a genotype.json");
        var space = new Option<string>("--space") { Description = $"Search space: {string.Join(", ", Nas.Spaces.SearchSpaces.All.Select(s => s.Name))}", DefaultValueFactory = _ => "darts" };
        var seed = new Option<long>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out") { Description = "Write the cell to this genotype.json" };
        foreach (var o in new Option[] { space, seed, output }) cmd.Options.Add(o);
        cmd.SetAction(r => io.Guard(() =>
        {
            var arch = RandomArchitecture.Sample(Nas.Spaces.SearchSpaces.Get(r.GetValue(space)!), r.GetValue(seed));
            io.Out.WriteLine(arch.Text);
            if (r.GetValue(output) is { } path)
                GenotypeFile.Save(path, GenotypeDocument.Of(arch).With("search", new Dictionary<string, object?> { ["method"] = "random", ["space"] = arch.Space, ["seed"] = r.GetValue(seed) }));
            return S2dApp.Success;
        }));
        return cmd;
    }
}
