using System.CommandLine;
using SearchToDeploy.Nas.Genotypes;
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
        var imageSize = new Option<int?>("--image-size") { Description = "Input size for the multiply-adds (default 224 for imagenet, else 32)" };
        var maxMadds = CommonOptions.MaxMadds();
        foreach (var o in new Option[] { genotype, network, channels, layers, classes, imageSize, maxMadds }) info.Options.Add(o);
        info.SetAction(r => io.Guard(() =>
        {
            var arch = GenotypeFile.LoadFileOrText(r.GetValue(genotype)!);
            var kind = r.GetValue(network) is { } n ? EvalNetwork.ParseKind(n) : NetworkConfig.DefaultKind(arch, smallImages: true);
            var paper = NetworkConfig.Paper(kind, r.GetValue(classes) ?? (kind == NetworkKind.ImageNet ? 1000 : 10));
            var cfg = paper with { Channels = r.GetValue(channels) ?? paper.Channels, Layers = r.GetValue(layers) ?? paper.Layers };
            torch.manual_seed(0);
            using var net = NetworkFactory.Create(arch, cfg);
            var size = ModelSize.Measure(net, r.GetValue(imageSize));
            io.Out.WriteLine($"architecture: {arch.Text}");
            io.Out.WriteLine($"network: {EvalNetwork.KindName(kind)}, C={cfg.Channels}, {(kind == NetworkKind.Nb201 ? $"{cfg.Layers} cells per stage" : $"{cfg.Layers} cells")}, {cfg.Classes} classes");
            io.Out.WriteLine($"parameters: {size.Parameters:N0} ({size.Parameters / 1e6:0.###}M; auxiliary head {size.AuxiliaryParameters:N0} more)");
            io.Out.WriteLine($"multiply-adds: {size.MultiplyAdds:N0} ({size.MultiplyAdds / 1e6:0.#}M) at {size.InputSize}x{size.InputSize}");
            if (r.GetValue(maxMadds) is { } limit && size.MultiplyAdds > limit * 1e6)
            {
                io.Err.WriteLine($"error: {size.MultiplyAdds / 1e6:0.0}M multiply-adds exceed --max-madds {limit}M");
                return S2dApp.BadInput;
            }
            return S2dApp.Success;
        }));
        cmd.Subcommands.Add(info);
        return cmd;
    }
}
