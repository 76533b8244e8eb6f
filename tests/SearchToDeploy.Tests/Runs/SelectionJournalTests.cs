using SearchToDeploy.Runs.Search;

namespace SearchToDeploy.Tests.Runs;

/// <summary>The perturbation selection's journal: what it keeps, what it drops, what it refuses to replay.</summary>
public sealed class SelectionJournalTests
{
    [Fact]
    public void Losses_are_appended_in_order_and_read_back_for_the_same_key()
    {
        using var dir = new TempDir();
        string path = dir["selection.jsonl"];
        using (var j = SelectionJournal.Open(path, "k1", write: true))
        {
            Assert.Empty(j.Known);
            foreach (double l in new[] { 1.6087, 0.1 + 0.2, 2.5e-7 }) j.Append(l);
        }
        using var again = SelectionJournal.Open(path, "k1", write: false);
        Assert.Equal([1.6087, 0.1 + 0.2, 2.5e-7], again.Known); // bit for bit ("R" round trip)
    }

    [Fact]
    public void A_torn_last_line_is_dropped_and_another_key_starts_afresh()
    {
        using var dir = new TempDir();
        string path = dir["selection.jsonl"];
        File.WriteAllText(path, "{\"key\":\"k1\"}\n1.5\n2.5\n3.2"); // killed while writing the third loss
        using (var j = SelectionJournal.Open(path, "k1", write: true))
        {
            Assert.Equal([1.5, 2.5], j.Known);
            j.Append(4);
        }
        Assert.Equal(["{\"key\":\"k1\"}", "1.5", "2.5", "4", ""], File.ReadAllText(path).Split('\n'));

        using (var other = SelectionJournal.Open(path, "k2", write: true)) Assert.Empty(other.Known);
        Assert.Equal(["{\"key\":\"k2\"}", ""], File.ReadAllText(path).Split('\n'));

        File.WriteAllText(path, "not a journal\n1.5\n");
        using var broken = SelectionJournal.Open(path, "k2", write: false);
        Assert.Empty(broken.Known);
        Assert.Equal("not a journal\n1.5\n", File.ReadAllText(path)); // a reader does not write
    }
}
