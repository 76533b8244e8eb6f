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
        foreach (int cut in new[] { 10, 14 }) // within the next record's header; its header whole and its data cut
        {
            File.WriteAllBytes(path, [.. File.ReadAllBytes(path)[..(whole.Length + cut)]]);
            TensorBoardEvents.Write(path, History(3));
            Assert.Equal(History(3).Select(s => (s.Tag, s.Step)), TensorBoardEvents.Read(path).Select(s => (s.Tag, s.Step)));
        }
        // An append cut after one of a step's two records: that step is written again, whole.
        byte[] full = File.ReadAllBytes(path);
        int oneRecord = 16 + (int)BitConverter.ToUInt64(full, whole.Length); // step 2's first record: header, data, CRCs
        File.WriteAllBytes(path, full[..(whole.Length + oneRecord)]);
        TensorBoardEvents.Write(path, History(3));
        Assert.Equal(full, File.ReadAllBytes(path));
        // A tag the file lacks (written by an earlier build): the file is written anew with it.
        TensorBoardEvents.Write(path, [.. History(3), new Scalar("new/tag", 0, 1, 1000)]);
        Assert.Equal(3, TensorBoardEvents.Read(path).Count(s => s.Tag == "lr"));
        Assert.Single(TensorBoardEvents.Read(path), s => s.Tag == "new/tag");
        // A file with steps the history has not reached (not this run's): written anew from the history.
        TensorBoardEvents.Write(path, History(1));
        Assert.Equal([0L, 0L], TensorBoardEvents.Read(path).Select(s => s.Step));
        // The first event, the file version, carries the run's first time, not 1970.
        Assert.Equal(1000, BitConverter.ToDouble(File.ReadAllBytes(path), 13));
    }
}
