using SearchToDeploy.Reporting;

namespace SearchToDeploy.Tests.Reporting;

/// <summary>Event files grow by appending, as a running TensorBoard reads them, and mend what a kill left.</summary>
public sealed class TensorBoardEventsTests
{
    private static List<Scalar> History(int epochs) =>
        [.. Enumerable.Range(0, epochs).SelectMany(e => new[] { new Scalar("train/loss", e, 2.0 / (e + 1), 1000 + e), new Scalar("lr", e, 0.1, 1000 + e) })];

    [Fact]
    public void Each_write_appends_the_epochs_the_file_lacks_and_keeps_what_it_had_byte_for_byte()
    {
        using var dir = new TempDir();
        string path = dir[TensorBoardEvents.FileName];
        TensorBoardEvents.Write(path, History(2));
        byte[] before = File.ReadAllBytes(path);
        TensorBoardEvents.Write(path, History(3));
        byte[] after = File.ReadAllBytes(path);
        Assert.Equal(before, after[..before.Length]); // appended, not replaced
        Assert.Equal(History(3).Select(s => (s.Tag, s.Step)), TensorBoardEvents.Read(path).Select(s => (s.Tag, s.Step)));
        TensorBoardEvents.Write(path, History(3)); // nothing new: nothing written
        Assert.Equal(after, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_partial_record_is_cut_back_and_a_file_ahead_of_the_history_is_written_anew()
    {
        using var dir = new TempDir();
        string path = dir[TensorBoardEvents.FileName];
        TensorBoardEvents.Write(path, History(2));
        // A kill in the middle of an append: half a record at the end.
        byte[] whole = File.ReadAllBytes(path);
        TensorBoardEvents.Write(path, History(3));
        File.WriteAllBytes(path, [.. File.ReadAllBytes(path)[..(whole.Length + 10)]]);
        TensorBoardEvents.Write(path, History(3));
        Assert.Equal(6, TensorBoardEvents.Read(path).Count);
        // A file with steps the history has not reached (not this run's): written anew from the history.
        TensorBoardEvents.Write(path, History(1));
        Assert.Equal([0L, 0L], TensorBoardEvents.Read(path).Select(s => s.Step));
        // The first event, the file version, carries the run's first time, not 1970.
        Assert.Equal(1000, BitConverter.ToDouble(File.ReadAllBytes(path), 13));
    }
}
