using System.Security.Cryptography;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Data.Download;

namespace SearchToDeploy.Data;

/// <summary>
/// Checks a dataset thoroughly: published checksums of the files where known, every record's format and label,
/// and for image folders that every image decodes.
/// </summary>
public static class DatasetVerifier
{
    /// <summary>SHA-256 of the official CIFAR-10 binary files (batches.meta.txt differs between copies: not checked).</summary>
    public static readonly IReadOnlyDictionary<string, string> Cifar10Sha256 = new Dictionary<string, string>
    {
        ["data_batch_1.bin"] = "cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5",
        ["data_batch_2.bin"] = "a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed",
        ["data_batch_3.bin"] = "bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67",
        ["data_batch_4.bin"] = "014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48",
        ["data_batch_5.bin"] = "755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add",
        ["test_batch.bin"] = "8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b",
    };

    public static VerifyReport Verify(DatasetRef dataset, TextWriter log)
    {
        var report = new VerifyReport();
        if (dataset.Kind == DatasetKind.Cifar10)
            foreach (var (file, sha) in Cifar10Sha256)
                CheckHash(Path.Combine(dataset.Location, file), sha, SHA256.HashData, "SHA-256", report);
        if (dataset.Kind == DatasetKind.Svhn)
            foreach (var f in DownloadSpec.Svhn.Files)
                CheckHash(Path.Combine(dataset.Location, f.FileName), f.Md5, MD5.HashData, "MD5", report);
        if (dataset.Kind == DatasetKind.Imagenette)
        {
            var differences = Imagenette.CompareWithOfficial(dataset.Location);
            report.Problems.AddRange(differences);
            if (differences.Count == 0)
                report.Lines.Add($"image counts per class match the official split ({Imagenette.TrainImages:N0} train / {Imagenette.ValImages:N0} val)");
        }

        var opened = new List<IImageDataset>();
        foreach (var split in new[] { Split.Train, Split.Test })
        {
            IImageDataset ds;
            try { ds = dataset.Open(split); }
            catch (DatasetNotFoundException e) when (dataset.MayLack(split))
            {
                report.Lines.Add($"{split.ToString().ToLowerInvariant()}: none ({e.Message})");
                continue;
            }
            catch (InputException e) { report.Problems.Add(e.Message); continue; }
            opened.Add(ds);
            var counts = ds.ClassCounts();
            report.Lines.Add($"{split.ToString().ToLowerInvariant()}: {ds.Count} images, {ds.Classes.Count} classes " +
                             $"({counts.Min()}-{counts.Max()} per class) in {ds.Source}");
            if (ds is ImageFolderDataset folder) DecodeAll(folder, split, report, log);
        }
        // Training refuses splits whose classes differ; so does verification.
        if (opened is [var train, var test] && !train.Classes.SequenceEqual(test.Classes))
        {
            var onlyTrain = train.Classes.Except(test.Classes).ToList();
            var onlyTest = test.Classes.Except(train.Classes).ToList();
            report.Problems.Add($"{test.Source}: its classes differ from {train.Source}'s" +
                                (onlyTrain.Count > 0 ? $"; missing: {string.Join(", ", onlyTrain.Take(5))}" : "") +
                                (onlyTest.Count > 0 ? $"; extra: {string.Join(", ", onlyTest.Take(5))}" : "") +
                                (onlyTrain.Count == 0 && onlyTest.Count == 0 ? "; the same names in another order" : "") +
                                "; both splits need the same class folders");
        }
        return report;
    }

    private static void CheckHash(string path, string expected, Func<Stream, byte[]> hash, string name, VerifyReport report)
    {
        if (!File.Exists(path)) { report.Problems.Add($"{path}: file not found"); return; }
        using var fs = File.OpenRead(path);
        string got = Convert.ToHexStringLower(hash(fs));
        if (got == expected) report.Lines.Add($"{Path.GetFileName(path)}: {name} matches the official file");
        else report.Problems.Add($"{path}: {name} {got}; expected the official {expected}");
    }

    private static void DecodeAll(ImageFolderDataset folder, Split split, VerifyReport report, TextWriter log)
    {
        var meter = new ProgressMeter($"decoding {split.ToString().ToLowerInvariant()} images", folder.Count, "images", log);
        var bad = new System.Collections.Concurrent.ConcurrentBag<string>();
        int done = 0;
        Parallel.For(0, folder.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            try { folder.Load(i); }
            catch (InputException e) { bad.Add(e.Message); }
            int d = Interlocked.Increment(ref done);
            if (d % 256 == 0) lock (meter) meter.Report(d);
        });
        meter.Report(folder.Count);
        meter.Finish();
        if (folder.IgnoredFiles > 0)
            report.Lines.Add($"{split.ToString().ToLowerInvariant()}: {folder.IgnoredFiles} files without an image extension were ignored");
        foreach (var message in bad.Order().Take(20)) report.Problems.Add(message);
        if (bad.Count > 20) report.Problems.Add($"... and {bad.Count - 20} more undecodable images");
        if (bad.IsEmpty) report.Lines.Add($"{split.ToString().ToLowerInvariant()}: all {folder.Count} images decode");
    }
}
