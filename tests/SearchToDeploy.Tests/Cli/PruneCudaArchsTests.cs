using System.Buffers.Binary;
using System.Text;

namespace SearchToDeploy.Tests.Cli;

/// <summary>
/// scripts/prune-cuda-archs.py on a small ELF file it writes in the real layout: a section header table naming an
/// .nv_fatbin section that holds three fat binaries (sm_75 + sm_90, sm_90 alone, sm_120 alone). Kept entries must
/// move to the front of their fat binary byte for byte, the header's size must shrink to them, and nothing outside
/// the fat binaries may change.
/// </summary>
public sealed class PruneCudaArchsTests
{
    private const int FatbinStart = 0x100;

    private static (int Code, string Output) Prune(params string[] args) =>
        ChildProcess.Run("python3", [Path.Combine(TestPaths.RepoRoot, "scripts", "prune-cuda-archs.py"), .. args]);

    private static byte[] Entry(int arch, int payload, Random rng)
    {
        var e = new byte[64 + payload];
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(0), 2); // an ELF (cubin) entry
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(2), 0x0101);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(4), 64);
        BinaryPrimitives.WriteUInt64LittleEndian(e.AsSpan(8), (ulong)payload);
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(28), (uint)arch);
        rng.NextBytes(e.AsSpan(64));
        return e;
    }

    private static byte[] Fatbin(params byte[][] entries)
    {
        var body = entries.SelectMany(e => e).ToArray();
        var f = new byte[16 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(0), 0xBA55ED50);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(6), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(f.AsSpan(8), (ulong)body.Length);
        body.CopyTo(f, 16);
        return f;
    }

    /// <summary>An ELF64 file: header, section names, the fat binaries from byte 0x100 (8 zero bytes between), section headers.</summary>
    private static byte[] Elf(byte[][] fatbins, string section = ".nv_fatbin")
    {
        var names = Encoding.ASCII.GetBytes($"\0.shstrtab\0{section}\0");
        var fat = fatbins.SelectMany(f => f.Concat(new byte[8])).ToArray();
        int shoff = FatbinStart + fat.Length;
        var file = new byte[shoff + 3 * 64];
        "\u007fELF"u8.CopyTo(file);
        file[4] = 2; file[5] = 1; file[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(0x10), 3); // a shared object
        BinaryPrimitives.WriteUInt64LittleEndian(file.AsSpan(0x28), (ulong)shoff);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(0x3A), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(0x3C), 3);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(0x3E), 1);
        names.CopyTo(file, 0x40);
        fat.CopyTo(file, FatbinStart);
        void Section(int i, int name, int offset, int size)
        {
            var s = file.AsSpan(shoff + i * 64);
            BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)name);
            BinaryPrimitives.WriteUInt32LittleEndian(s[4..], 1);
            BinaryPrimitives.WriteUInt64LittleEndian(s[24..], (ulong)offset);
            BinaryPrimitives.WriteUInt64LittleEndian(s[32..], (ulong)size);
        }
        Section(1, 1, 0x40, names.Length);
        Section(2, 11, FatbinStart, fat.Length);
        return file;
    }

    [Fact]
    public void Keeps_the_chosen_architectures_entries_in_place_and_changes_nothing_else()
    {
        using var dir = new TempDir();
        var rng = new Random(5);
        byte[] sm75 = Entry(75, 200, rng), sm90 = Entry(90, 120, rng), alone90 = Entry(90, 80, rng), sm120 = Entry(120, 40, rng);
        byte[][] fatbins = [Fatbin(sm75, sm90), Fatbin(alone90), Fatbin(sm120)];
        byte[] input = Elf(fatbins);
        string inPath = Path.Combine(dir.Path, "lib.so"), outPath = Path.Combine(dir.Path, "lib.sm90.so");
        File.WriteAllBytes(inPath, input);

        var (code, output) = Prune(inPath, outPath, "--keep", "90");
        Assert.True(code == 0, output);
        Assert.Contains("kept 2 entries of sm_90, dropped 1; 1 fat binaries without them left as they were", output);
        byte[] pruned = File.ReadAllBytes(outPath);
        Assert.Equal(input.Length, pruned.Length);

        // The first fat binary: its sm_90 entry moved to the front unchanged, its size that entry's, zeros after.
        Assert.Equal((ulong)sm90.Length, BinaryPrimitives.ReadUInt64LittleEndian(pruned.AsSpan(FatbinStart + 8)));
        Assert.Equal(sm90, pruned.AsSpan(FatbinStart + 16, sm90.Length).ToArray());
        Assert.All(pruned.AsSpan(FatbinStart + 16 + sm90.Length, sm75.Length).ToArray(), b => Assert.Equal(0, b));
        // Everything after the first fat binary (the other two, the section headers) and before it is unchanged.
        int firstEnd = FatbinStart + fatbins[0].Length;
        Assert.Equal(input[..(FatbinStart + 8)], pruned[..(FatbinStart + 8)]);
        Assert.Equal(input[firstEnd..], pruned[firstEnd..]);

        (code, output) = Prune(outPath, "--list");
        Assert.True(code == 0, output);
        Assert.Contains("3 fat binaries", output);
        Assert.Contains("sm_90 elf: 2 entries", output);
        Assert.Contains("sm_120 elf: 1 entries", output);
        Assert.DoesNotContain("sm_75", output);
    }

    [Fact]
    public void Refuses_what_it_cannot_prune_and_writes_nothing()
    {
        using var dir = new TempDir();
        string outPath = Path.Combine(dir.Path, "out.so");
        string notElf = Path.Combine(dir.Path, "notes.txt");
        File.WriteAllText(notElf, "not a library");
        var (code, output) = Prune(notElf, outPath, "--keep", "90");
        Assert.Equal(2, code);
        Assert.Contains($"{notElf}: not a 64-bit little-endian ELF file", output);

        var rng = new Random(6);
        string noKernels = Path.Combine(dir.Path, "plain.so");
        File.WriteAllBytes(noKernels, Elf([Fatbin(Entry(90, 16, rng))], section: ".rodata"));
        (code, output) = Prune(noKernels, outPath, "--keep", "90");
        Assert.Equal(2, code);
        Assert.Contains($"{noKernels}: no .nv_fatbin section", output);

        string lib = Path.Combine(dir.Path, "lib.so");
        File.WriteAllBytes(lib, Elf([Fatbin(Entry(75, 16, rng), Entry(90, 16, rng))]));
        (code, output) = Prune(lib, outPath, "--keep", "80");
        Assert.Equal(2, code);
        Assert.Contains("no entry for sm_80; nothing would run", output);
        Assert.False(File.Exists(outPath));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }
}
