using System.Text;
using CsCheck;
using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Nas.Architectures;
using SkiaSharp;

namespace SearchToDeploy.Tests.Core;

/// <summary>
/// The readers of user input, fed random and mutated inputs (CsCheck, fixed seeds): each gives a value or the project's
/// own input error with a message, never another exception.
/// </summary>
public sealed class PropertyTests
{
    private const long Iterations = 400;
    private const string Punctuation = "[](),'\"|~+:0123 -_{}";

    /// <summary>A valid text with some characters deleted, replaced or inserted.</summary>
    private static Gen<string> Mutated(string valid) =>
        Gen.Select(Gen.Int[1, 6], Gen.Int[0, int.MaxValue], Gen.Char.AlphaNumeric, (edits, seed, c) =>
        {
            var rng = new Random(seed);
            var sb = new StringBuilder(valid);
            for (int i = 0; i < edits && sb.Length > 0; i++)
            {
                int at = rng.Next(sb.Length);
                switch (rng.Next(3))
                {
                    case 0: sb.Remove(at, 1); break;
                    case 1: sb[at] = Punctuation[rng.Next(Punctuation.Length)]; break;
                    default: sb.Insert(at, c); break;
                }
            }
            return sb.ToString();
        });

    private static void ValueOrInputError(Action read)
    {
        try { read(); }
        catch (InputException e) { Assert.False(string.IsNullOrWhiteSpace(e.Message)); }
    }

    [Fact]
    public void Genotype_strings_parse_or_are_refused_with_a_message() =>
        Gen.OneOf(Mutated(KnownGenotypes.DartsV2), Mutated(KnownGenotypes.Nb201Best), Gen.String)
            .Sample(text => ValueOrInputError(() => Architecture.ParseText(text)), iter: Iterations, seed: "0N0XIzNsQ0O2");

    [Fact]
    public void Genotype_documents_parse_or_are_refused_with_a_message()
    {
        string darts = GenotypeDocument.Of(Architecture.ParseText(KnownGenotypes.DartsV2)).With("search", new Dictionary<string, object?> { ["seed"] = 2 }).ToJson();
        string nb201 = GenotypeDocument.Of(Architecture.ParseText(KnownGenotypes.Nb201Best)).ToJson();
        Gen.OneOf(Mutated(darts), Mutated(nb201))
            .Sample(json => ValueOrInputError(() => GenotypeDocument.Parse(json, "g.json")), iter: Iterations, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void Model_metadata_reads_or_is_refused_naming_the_model()
    {
        var good = new ModelMetadata(["a", "b"], new SearchToDeploy.Data.Transforms.EvalPreprocessing(32, 0, [0.5f, 0.5f, 0.5f], [0.2f, 0.2f, 0.2f]),
            GenotypeDocument.Of(Architecture.ParseText(KnownGenotypes.Nb201Best)), "nb201", "cifar10", "{}", "folded", "s2d").ToDictionary();
        var keys = good.Keys.ToArray();
        Gen.Select(Gen.Int[0, keys.Length - 1], Gen.OneOf(Gen.String, Mutated("[0.5, 0.5, 0.5]"), Mutated("32"), Mutated("[\"a\", \"b\"]")), Gen.Bool)
            .Sample((k, value, remove) =>
            {
                var meta = new Dictionary<string, string>(good);
                if (remove) meta.Remove(keys[k]); else meta[keys[k]] = value;
                try { ModelMetadata.Parse(meta, "m.onnx"); }
                catch (InputException e) { Assert.StartsWith("m.onnx", e.Message); }
            }, iter: Iterations, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void Image_bytes_decode_or_are_refused_with_a_message()
    {
        using var bmp = new SKBitmap(new SKImageInfo(40, 30, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bmp.Erase(new SKColor(10, 200, 30));
        byte[] Encode(SKEncodedImageFormat f) { using var d = bmp.Encode(f, 90); return d.ToArray(); }
        var valid = new[] { Encode(SKEncodedImageFormat.Png), Encode(SKEncodedImageFormat.Jpeg) };
        Gen.Select(Gen.Int[0, 1], Gen.Int[1, 20], Gen.Int[0, int.MaxValue], Gen.Bool).Sample((which, flips, seed, truncate) =>
        {
            var rng = new Random(seed);
            var bytes = (byte[])valid[which].Clone();
            for (int i = 0; i < flips; i++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            if (truncate) bytes = bytes[..rng.Next(bytes.Length)];
            ValueOrInputError(() => ImageDecoder.Decode(bytes, "upload", maxPixels: 4_000_000, fitSide: rng.Next(2) * 8));
        }, iter: Iterations, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void Cifar_files_of_any_bytes_read_or_are_refused_with_a_message()
    {
        using var dir = new TempDir();
        var layout = CifarLayout.Cifar10 with { TrainFiles = [new CifarFile("data.bin", 3)], TestFiles = [new CifarFile("test.bin", 3)] };
        File.WriteAllText(dir[layout.FineNamesFile], string.Join("\n", Enumerable.Range(0, 10).Select(i => $"class{i}")) + "\n");
        Gen.Select(Gen.Int[0, 4 * 3073], Gen.Int[0, int.MaxValue]).Sample((length, seed) =>
        {
            var bytes = new byte[length];
            new Random(seed).NextBytes(bytes);
            File.WriteAllBytes(dir["data.bin"], bytes);
            ValueOrInputError(() => CifarBinary.Read(layout, dir.Path, train: true));
        }, iter: 200, seed: "0N0XIzNsQ0O2", threads: 1);
    }
}
