using System.CommandLine;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Download;

namespace SearchToDeploy.Cli.Commands;

/// <summary><c>s2d data info|verify|download</c>.</summary>
public static class DataCommands
{
    public static Command Create(CliIo io)
    {
        var data = new Command("data", "Inspect, verify and download datasets");
        data.Subcommands.Add(Info(io));
        data.Subcommands.Add(Verify(io));
        data.Subcommands.Add(Download(io));
        return data;
    }

    private static Command Info(CliIo io)
    {
        var (cmd, resolve) = WithDatasetOptions("info", "Print split sizes, class counts and class names of a dataset");
        cmd.SetAction(r => io.Guard(() =>
        {
            var ds = resolve(r);
            io.Out.WriteLine($"dataset: {ds.Name}");
            io.Out.WriteLine($"location: {ds.Location}");
            IImageDataset? any = null;
            foreach (var split in new[] { Split.Train, Split.Test })
            {
                IImageDataset set;
                try { set = ds.Open(split); }
                catch (DatasetNotFoundException e) when (ds.MayLack(split))
                {
                    io.Out.WriteLine($"{split.ToString().ToLowerInvariant()}: none ({e.Message})");
                    continue;
                }
                any ??= set;
                var counts = set.ClassCounts();
                string size = set is InMemoryImageDataset m ? $", {m.Width}x{m.Height} RGB" : "";
                io.Out.WriteLine($"{split.ToString().ToLowerInvariant()}: {set.Count} images, {set.Classes.Count} classes, " +
                                 $"{counts.Min()}-{counts.Max()} images per class{size}");
            }
            if (any is not null)
            {
                var names = any.Classes;
                io.Out.WriteLine($"classes: {string.Join("; ", names.Take(20))}{(names.Count > 20 ? $", ... ({names.Count} in all)" : "")}");
            }
            return S2dApp.Success;
        }));
        return cmd;
    }

    private static Command Verify(CliIo io)
    {
        var (cmd, resolve) = WithDatasetOptions("verify",
            "Check a dataset thoroughly: official checksums where known, every record's size and label, every image decodes");
        cmd.SetAction(r => io.Guard(() =>
        {
            var ds = resolve(r);
            io.Out.WriteLine($"verifying {ds.Name} at {ds.Location}");
            var report = DatasetVerifier.Verify(ds, io.Out);
            foreach (var line in report.Lines) io.Out.WriteLine($"  ok: {line}");
            foreach (var p in report.Problems) io.Err.WriteLine($"  problem: {p}");
            io.Out.WriteLine(report.Ok ? $"{ds.Name}: verified" : $"{ds.Name}: {report.Problems.Count} problem(s)");
            return report.Ok ? S2dApp.Success : S2dApp.BadInput;
        }));
        return cmd;
    }

    private static Command Download(CliIo io)
    {
        var dataset = CommonOptions.Dataset();
        var root = CommonOptions.DataRoot();
        var cmd = new Command("download",
            "Download CIFAR-10, CIFAR-100, SVHN or Imagenette (160 px) from the official address into the data root, check the published MD5 " +
            "(Imagenette: and the image counts of the published split) and unpack; " +
            "an archive placed in the data root by hand is used instead of the network. ImageNet is never downloaded.");
        cmd.Options.Add(dataset);
        cmd.Options.Add(root);
        cmd.SetAction(r => io.Guard(() =>
        {
            string name = r.GetValue(dataset)!;
            var kind = DatasetRef.ParseKind(name);
            string dataRoot = DataRoot.Resolve(r.GetValue(root));
            var spec = DownloadSpec.For(DatasetRef.Names[(int)kind]) ?? throw new InputException(kind == DatasetKind.ImageNet
                ? "ImageNet is never downloaded (its terms require registration): put it at <data root>/imagenet with train/<wnid>/*.JPEG and val/<wnid>/*.JPEG, or pass --imagenet/--data"
                : $"--dataset {name}: nothing to download for an image folder; point --data at it");
            using var http = DatasetDownloader.CreateClient();
            new DatasetDownloader(http, io.Out).EnsureAsync(spec, dataRoot).GetAwaiter().GetResult();
            // Where several copies sit in the root, say which one --dataset reads (Imagenette: the 64-px one first).
            if (kind == DatasetKind.Imagenette && Imagenette.Locate(dataRoot) is var used && Path.GetFileName(used) != spec.Target)
                io.Out.WriteLine($"note: --dataset imagenette reads {used}, which is also here and comes first; pass --data {Path.Combine(dataRoot, spec.Target)} for the download");
            return S2dApp.Success;
        }));
        return cmd;
    }

    private static (Command, Func<ParseResult, DatasetRef>) WithDatasetOptions(string name, string description)
    {
        var dataset = CommonOptions.Dataset();
        var root = CommonOptions.DataRoot();
        var path = CommonOptions.DataPath();
        var coarse = CommonOptions.CoarseLabels();
        var cmd = new Command(name, description);
        cmd.Options.Add(dataset);
        cmd.Options.Add(root);
        cmd.Options.Add(path);
        cmd.Options.Add(coarse);
        return (cmd, r => CommonOptions.ResolveDataset(r, dataset, root, path, coarse));
    }
}
