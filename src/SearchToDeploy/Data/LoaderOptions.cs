
namespace SearchToDeploy.Data;

/// <summary>How a <see cref="DataLoader"/> batches and orders a dataset.</summary>
/// <param name="Workers">Background threads building batches (0 = build on the caller's thread).</param>
/// <param name="Prefetch">Batches built ahead of the consumer, in all (bounded queue).</param>
/// <param name="SkipUndecodable">Drop images that fail to decode (counted and reported) instead of failing.</param>
/// <param name="Rank">Data-parallel runs: this rank serves its share of each batch (the batch's images
/// [Rank*n/Ranks, (Rank+1)*n/Ranks)), so the ranks together serve exactly the batches one process would.</param>
/// <param name="Ranks">The number of ranks sharing each batch.</param>
public sealed record LoaderOptions(
    int BatchSize,
    bool Shuffle,
    long Seed,
    bool DropLast = false,
    int Workers = 2,
    int Prefetch = 4,
    bool SkipUndecodable = false,
    int Rank = 0,
    int Ranks = 1);
