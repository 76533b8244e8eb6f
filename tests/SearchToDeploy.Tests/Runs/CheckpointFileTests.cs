using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Runs;

/// <summary>The checkpoint format: round trip, and truncated or corrupt files rejected by name without leaking what was read.</summary>
[Collection(AloneCollection.Name)]
public sealed class CheckpointFileTests
{
    private const long MB = 1 << 20;
    private const string Header = """{"epoch": 3}""";

    private static Dictionary<string, Tensor> Sample() => new()
    {
        ["big"] = torch.arange(16L << 20, dtype: ScalarType.Float32), // 64 MB: what a partial read must not keep
        ["bn.running_var"] = torch.ones(7, dtype: ScalarType.Float64),
        ["step"] = torch.tensor(12L),
        ["alphas"] = torch.linspace(-1, 1, 30).reshape(6, 5).to(ScalarType.BFloat16),
    };

    [Fact]
    public void Round_trip_keeps_names_dtypes_shapes_and_values()
    {
        using var dir = new TempDir();
        var saved = Sample();
        CheckpointFile.Save(dir["c.s2d"], Header, saved);
        var (json, loaded) = CheckpointFile.Load(dir["c.s2d"]);
        Assert.Equal(Header, json);
        Assert.Equal(Header, CheckpointFile.LoadHeader(dir["c.s2d"]));
        Assert.Equal(saved.Keys, loaded.Keys);
        foreach (var (k, t) in saved)
        {
            Assert.Equal(t.dtype, loaded[k].dtype);
            Assert.Equal(t.shape, loaded[k].shape);
            Assert.True(t.eq(loaded[k]).all().item<bool>(), k);
        }
        foreach (var t in saved.Values.Concat(loaded.Values)) t.Dispose();
    }

    [Fact]
    public void Tensor_names_are_read_without_the_data()
    {
        using var dir = new TempDir();
        var tensors = Sample();
        CheckpointFile.Save(dir["c.s2d"], Header, tensors);
        Assert.Equal(tensors.Keys, CheckpointFile.TensorNames(dir["c.s2d"]));
        var bytes = File.ReadAllBytes(dir["c.s2d"]);
        File.WriteAllBytes(dir["cut.s2d"], bytes[..^10]);
        Assert.Contains("truncated checkpoint", Assert.Throws<InputException>(() => CheckpointFile.TensorNames(dir["cut.s2d"])).Message);
        foreach (var t in tensors.Values) t.Dispose();
    }

    [Fact]
    public void A_file_cut_anywhere_is_a_truncated_checkpoint_and_frees_the_tensors_already_read()
    {
        using var dir = new TempDir();
        var saved = Sample();
        CheckpointFile.Save(dir["c.s2d"], Header, saved);
        foreach (var t in saved.Values) t.Dispose();
        var bytes = File.ReadAllBytes(dir["c.s2d"]);
        long bigEnd = bytes.Length - 400; // past the 64 MB tensor, inside the small ones written after it
        NativeAllocator.ConfigureForTraining();
        GC.Collect();
        GC.WaitForPendingFinalizers(); // nothing of the save (or of earlier tests) is freed in the middle of a measurement
        foreach (long cut in new long[] { 4, 20, 200, 64 * MB, bigEnd, bytes.Length - 1 })
        {
            File.WriteAllBytes(dir["cut.s2d"], bytes[..(int)cut]);
            GC.Collect();
            GC.WaitForPendingFinalizers(); // what earlier cuts or tests left to the finalizer is freed before, not during, the measurement
            long before = NativeAllocator.AllocatedBytes();
            var e = Assert.Throws<InputException>(() => CheckpointFile.Load(dir["cut.s2d"]));
            Assert.Contains("cut.s2d", e.Message);
            Assert.Contains("truncated", e.Message);
            long kept = NativeAllocator.AllocatedBytes() - before;
            Assert.True(Math.Abs(kept) < 8 * MB, $"cut at {cut}: {kept / MB} MB still allocated"); // the 64 MB read before the cut is gone
        }
    }

    [Fact]
    public void An_empty_file_a_huge_claimed_length_and_trailing_bytes_are_named_for_what_they_are()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir["empty.s2d"], []);
        Assert.Contains("empty.s2d: truncated checkpoint", Assert.Throws<InputException>(() => CheckpointFile.Load(dir["empty.s2d"])).Message);
        File.WriteAllText(dir["text.s2d"], "some text, not a checkpoint");
        Assert.Contains("text.s2d: not a SearchToDeploy checkpoint (bad magic)", Assert.Throws<InputException>(() => CheckpointFile.Load(dir["text.s2d"])).Message);
        using (var t = torch.ones(3, 4))
            CheckpointFile.Save(dir["c.s2d"], Header, new Dictionary<string, Tensor> { ["w"] = t });
        var bytes = File.ReadAllBytes(dir["c.s2d"]);
        var huge = bytes.ToArray();
        BitConverter.GetBytes(int.MaxValue).CopyTo(huge, 8); // the header's length, right after the magic
        File.WriteAllBytes(dir["huge.s2d"], huge);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("truncated", Assert.Throws<InputException>(() => CheckpointFile.Load(dir["huge.s2d"])).Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < MB, "the claimed 2 GB header was allocated");
        File.WriteAllBytes(dir["trailing.s2d"], [.. bytes, 1, 2, 3]);
        Assert.Contains("trailing.s2d: corrupt checkpoint (3 bytes after its 1 tensors)", Assert.Throws<InputException>(() => CheckpointFile.Load(dir["trailing.s2d"])).Message);
    }

    [Fact]
    public void A_size_that_does_not_match_the_shape_is_a_corrupt_checkpoint()
    {
        using var dir = new TempDir();
        using (var t = torch.ones(3, 4))
            CheckpointFile.Save(dir["c.s2d"], Header, new Dictionary<string, Tensor> { ["w"] = t });
        var bytes = File.ReadAllBytes(dir["c.s2d"]);
        // The byte count sits right before the 48 data bytes at the end of the file.
        BitConverter.GetBytes(40L).CopyTo(bytes, bytes.Length - 48 - 8);
        File.WriteAllBytes(dir["bad.s2d"], bytes);
        var e = Assert.Throws<InputException>(() => CheckpointFile.Load(dir["bad.s2d"]));
        Assert.Contains("bad.s2d: corrupt checkpoint (tensor w [3, 4] Float32 stored in 40 bytes, not 48)", e.Message);
    }

    [Fact]
    public void A_malformed_name_length_is_a_corrupt_checkpoint()
    {
        using var dir = new TempDir();
        using (var t = torch.ones(3, 4))
            CheckpointFile.Save(dir["c.s2d"], Header, new Dictionary<string, Tensor> { ["w"] = t });
        var bytes = File.ReadAllBytes(dir["c.s2d"]);
        // The last tensor record: name "w" (length prefix 1, 'w'), dtype, rank, 2 dims, byte count, 48 data bytes.
        int record = bytes.Length - (2 + 4 + 4 + 16 + 8 + 48);
        Assert.Equal(1, bytes[record]);
        for (int i = 0; i < 5; i++) bytes[record + i] = 0xFF; // a 7-bit length that never ends
        File.WriteAllBytes(dir["bad.s2d"], bytes);
        var e = Assert.Throws<InputException>(() => CheckpointFile.Load(dir["bad.s2d"]));
        Assert.Contains("bad.s2d: corrupt checkpoint (a malformed length prefix", e.Message);
    }

    [Fact]
    public void A_missing_file_and_a_foreign_file_are_named()
    {
        using var dir = new TempDir();
        Assert.Contains("none.s2d: checkpoint not found", Assert.Throws<InputException>(() => CheckpointFile.Load(dir["none.s2d"])).Message);
        File.WriteAllText(dir["notes.txt"], "these are not the tensors you are looking for");
        Assert.Contains("notes.txt: not a SearchToDeploy checkpoint", Assert.Throws<InputException>(() => CheckpointFile.Load(dir["notes.txt"])).Message);
    }
}
