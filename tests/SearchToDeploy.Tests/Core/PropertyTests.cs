using System.Text;
using CsCheck;
using SearchToDeploy.Data;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Nas.Architectures;
using SkiaSharp;

namespace SearchToDeploy.Tests.Core;

/// <summary>
/// The readers of user input, fed random and mutated inputs (CsCheck generators, drawn from one fixed seed, so every
/// run checks the same inputs): each gives a value or the project's own input error with a message, never another exception.
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

    /// <summary>
    /// Checks <paramref name="iterations"/> values of <paramref name="gen"/> drawn in turn from one seeded generator
    /// (CsCheck's Sample seeds only its first iteration and draws the rest at random on several threads).
    /// </summary>
    private static void Each<T>(Gen<T> gen, Action<T> check, long iterations = Iterations)
    {
        var pcg = new PCG(1, 20261205);
        for (long i = 0; i < iterations; i++)
        {
            var value = gen.Generate(pcg, null, out _);
            try { check(value); }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"input {i} of {iterations}: {e.Message}\n{e}"); }
        }
    }

    private static void ValueOrInputError(Action read)
    {
        try { read(); }
        catch (InputException e) { Assert.False(string.IsNullOrWhiteSpace(e.Message)); }
    }

    [Fact]
    public void Genotype_strings_parse_or_are_refused_with_a_message() =>
        Each(Gen.OneOf(Mutated(KnownGenotypes.DartsV2), Mutated(KnownGenotypes.Nb201Best), Gen.String), text => ValueOrInputError(() => Architecture.ParseText(text)));

    [Fact]
    public void Genotype_documents_parse_or_are_refused_with_a_message()
    {
        string darts = GenotypeDocument.Of(Architecture.ParseText(KnownGenotypes.DartsV2)).With("search", new Dictionary<string, object?> { ["seed"] = 2 }).ToJson();
        string nb201 = GenotypeDocument.Of(Architecture.ParseText(KnownGenotypes.Nb201Best)).ToJson();
        Each(Gen.OneOf(Mutated(darts), Mutated(nb201)), json => ValueOrInputError(() => GenotypeDocument.Parse(json, "g.json")));
    }

    [Fact]
    public void Model_metadata_reads_or_is_refused_naming_the_model()
    {
        var good = new ModelMetadata(["a", "b"], new SearchToDeploy.Data.Transforms.EvalPreprocessing(32, 0, [0.5f, 0.5f, 0.5f], [0.2f, 0.2f, 0.2f]),
            GenotypeDocument.Of(Architecture.ParseText(KnownGenotypes.Nb201Best)), "nb201", "cifar10", "{}", "folded", "s2d").ToDictionary();
        var keys = good.Keys.ToArray();
        Each(Gen.Select(Gen.Int[0, keys.Length - 1], Gen.OneOf(Gen.String, Mutated("[0.5, 0.5, 0.5]"), Mutated("32"), Mutated("[\"a\", \"b\"]")), Gen.Bool), t =>
            {
                var (k, value, remove) = t;
                var meta = new Dictionary<string, string>(good);
                if (remove) meta.Remove(keys[k]); else meta[keys[k]] = value;
                try { ModelMetadata.Parse(meta, "m.onnx"); }
                catch (InputException e) { Assert.StartsWith("m.onnx", e.Message); }
            });
    }

    [Fact]
    public void Image_bytes_decode_or_are_refused_with_a_message()
    {
        using var bmp = new SKBitmap(new SKImageInfo(40, 30, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bmp.Erase(new SKColor(10, 200, 30));
        byte[] Encode(SKEncodedImageFormat f) { using var d = bmp.Encode(f, 90); return d.ToArray(); }
        var valid = new[] { Encode(SKEncodedImageFormat.Png), Encode(SKEncodedImageFormat.Jpeg) };
        Each(Gen.Select(Gen.Int[0, 1], Gen.Int[1, 20], Gen.Int[0, int.MaxValue], Gen.Bool), t =>
        {
            var (which, flips, seed, truncate) = t;
            var rng = new Random(seed);
            var bytes = (byte[])valid[which].Clone();
            for (int i = 0; i < flips; i++) bytes[rng.Next(bytes.Length)] = (byte)rng.Next(256);
            if (truncate) bytes = bytes[..rng.Next(bytes.Length)];
            ValueOrInputError(() => ImageDecoder.Decode(bytes, "upload", maxPixels: 4_000_000, fitSide: rng.Next(2) * 8));
        });
    }

    [Fact]
    public void Cifar_files_of_any_bytes_read_or_are_refused_with_a_message()
    {
        using var dir = new TempDir();
        var layout = CifarLayout.Cifar10 with { TrainFiles = [new CifarFile("data.bin", 3)], TestFiles = [new CifarFile("test.bin", 3)] };
        File.WriteAllText(dir[layout.FineNamesFile], string.Join("\n", Enumerable.Range(0, 10).Select(i => $"class{i}")) + "\n");
        // Lengths near whole records (3,073 bytes) as often as any length, labels mostly in range: the label check and
        // whole reads are reached, not only the size refusal.
        var length = Gen.OneOf(Gen.Int[0, 4 * 3073], Gen.Select(Gen.Int[2, 4], Gen.Int[-1, 1], (records, delta) => Math.Max(0, records * 3073 + delta)));
        int read = 0, badLabel = 0;
        Each(Gen.Select(length, Gen.Int[0, int.MaxValue], Gen.Int[0, 1]), t =>
        {
            var (n, seed, outOfRange) = t;
            var bytes = new byte[n];
            var rng = new Random(seed);
            rng.NextBytes(bytes);
            for (int r = 0; r + 3073 <= n; r += 3073) bytes[r] = (byte)(outOfRange == 0 ? 10 + rng.Next(246) : rng.Next(10));
            File.WriteAllBytes(dir["data.bin"], bytes);
            try { CifarBinary.Read(layout, dir.Path, train: true); read++; }
            catch (InputException e) { Assert.False(string.IsNullOrWhiteSpace(e.Message)); if (e.Message.Contains("label")) badLabel++; }
        }, iterations: 200);
        Assert.True(read > 0 && badLabel > 0, $"{read} files read and {badLabel} refused for a label: both paths must be reached");
    }
}
