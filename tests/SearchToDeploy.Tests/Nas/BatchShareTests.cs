using SearchToDeploy.Data;
using SearchToDeploy.Nas.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Nas;

/// <summary>Data-parallel ranks draw per-image random numbers (drop-path, S4 noise) as one process would for the whole batch.</summary>
public sealed class BatchShareTests
{
    [Fact]
    public void Two_shares_draw_the_masks_and_noise_of_the_whole_batch()
    {
        using var x = torch.ones(8, 2, 4, 4);
        var noise = new NoiseOp(1);
        Tensor Draw(Func<Tensor> op)
        {
            torch.random.manual_seed(7);
            using var first = op();
            return op(); // the second draw: the generator must have moved alike in every process
        }
        using var whole = Draw(() => DropPath.Apply(x, 0.5));
        using var wholeNoise = Draw(() => noise.call(x));
        var parts = new List<Tensor>();
        var noiseParts = new List<Tensor>();
        foreach (long offset in new long[] { 0, 4 })
            using (BatchShare.Enter(offset, 8))
            {
                using var half = x.narrow(0, offset, 4);
                parts.Add(Draw(() => DropPath.Apply(half, 0.5)));
                noiseParts.Add(Draw(() => noise.call(half)));
            }
        using var joined = torch.cat(parts, 0);
        using var joinedNoise = torch.cat(noiseParts, 0);
        Assert.True(joined.Equals(whole));
        Assert.True(joinedNoise.Equals(wholeNoise));
        Assert.False(parts[0].Equals(parts[1])); // the ranks' images get different masks (before: the same ones)
        Assert.Null(BatchShare.Current);
    }

    [Fact]
    public void A_ranks_batches_say_where_its_share_lies_in_the_whole_batch()
    {
        var cifar = DatasetRef.Resolve("cifar10", TestPaths.DataRoot).Open(Split.Test);
        var tf = SearchToDeploy.Data.Transforms.CifarTransform.Eval(SearchToDeploy.Data.Transforms.Normalization.Cifar10);
        int[] indices = [.. Enumerable.Range(0, 20)];
        foreach (int rank in new[] { 0, 1 })
        {
            var loader = new DataLoader(cifar, indices, tf, new LoaderOptions(8, false, 0, Workers: 0) { Rank = rank, Ranks = 2 });
            var batches = loader.Epoch(0).ToList();
            Assert.Equal([(rank * 4, 8), (rank * 4, 8), (rank * 2, 4)], batches.Select(b => (b.Offset, b.Whole)));
            foreach (var b in batches) b.Dispose();
        }
    }
}
