using SearchToDeploy.Data;
using SearchToDeploy.Data.Transforms;

namespace SearchToDeploy.Tests.Data;

public sealed class LoaderTests(Cifar10Fixture cifar) : IClassFixture<Cifar10Fixture>
{
    private static List<(float[] X, long[] Y)> Collect(DataLoader loader, int epoch, int take, int start = 0) =>
        [.. loader.Epoch(epoch, start).Take(take).Select(b => { using (b) return (b.Images.ToArray(), b.Labels); })];

    private DataLoader Loader(int workers, long seed = 11, int[]? indices = null) =>
        new(cifar.Train, indices ?? [.. Enumerable.Range(0, 2000)], CifarTransform.Train(Normalization.Cifar10, cutout: 16),
            new LoaderOptions(64, Shuffle: true, Seed: seed, DropLast: true, Workers: workers));

    [Fact]
    public void Same_seed_gives_identical_batches_whatever_the_worker_count()
    {
        var a = Collect(Loader(0), 3, 5);
        var b = Collect(Loader(2), 3, 5);
        var c = Collect(Loader(1), 3, 5);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(a[i].Y, b[i].Y);
            Assert.Equal(a[i].X, b[i].X);
            Assert.Equal(a[i].X, c[i].X);
        }
        var other = Collect(Loader(2, seed: 12), 3, 1);
        Assert.NotEqual(a[0].Y, other[0].Y);
        Assert.NotEqual(a[0].Y, Collect(Loader(2), 4, 1)[0].Y); // a new epoch reshuffles
    }

    [Fact]
    public void Batches_are_nchw_float32_tensors_with_int64_labels()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var batch = Loader(1).Epoch(0).First();
        var (x, y) = batch.ToTensors();
        Assert.Equal([64L, 3, 32, 32], x.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, x.dtype);
        Assert.Equal([64L], y.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Int64, y.dtype);
        Assert.Equal(batch.Labels, y.data<long>().ToArray());
        Assert.Equal(batch.Images.ToArray(), x.data<float>().ToArray());
    }

    [Fact]
    public void Drop_last_and_resume_from_a_batch()
    {
        var loader = Loader(2, indices: [.. Enumerable.Range(0, 200)]);
        Assert.Equal(3, loader.BatchesPerEpoch);
        var keep = new DataLoader(cifar.Train, [.. Enumerable.Range(0, 200)], CifarTransform.Eval(Normalization.Cifar10),
            new LoaderOptions(64, Shuffle: false, Seed: 1, DropLast: false, Workers: 2));
        Assert.Equal(4, keep.BatchesPerEpoch);
        Assert.Equal(8, keep.Epoch(0).Last().Count);

        var full = Collect(loader, 7, 3);
        var tail = Collect(loader, 7, 2, start: 1);
        Assert.Equal(full[1].X, tail[0].X);
        Assert.Equal(full[2].Y, tail[1].Y);
        // Every index of an epoch is served exactly once.
        Assert.Equal(Enumerable.Range(0, 200), loader.Order(5).Order());
    }

    [Fact]
    public void Search_split_gives_the_darts_halves()
    {
        var (w, a) = SearchSplit.Create(50_000, 0.5);
        Assert.Equal(25_000, w.Length);
        Assert.Equal(25_000, a.Length);
        Assert.Equal(0, w[0]);
        Assert.Equal(25_000, a[0]);
        var (w2, a2) = SearchSplit.Create(50_000, 0.5, maxPerPart: 1000);
        Assert.Equal((1000, 1000, 25_000), (w2.Length, a2.Length, a2[0]));
        Assert.Throws<InputException>(() => SearchSplit.Create(100, 1.5));
    }

    [Fact]
    public void Undecodable_images_fail_the_epoch_or_are_skipped_and_counted()
    {
        using var dir = new TempDir();
        RealFormats.WriteImageFolder(dir.Path, ["a", "b"], 3);
        File.WriteAllBytes(dir["b/zz_bad.jpg"], [1, 2, 3]);
        var ds = ImageFolderDataset.Open(dir.Path);
        var t = new ImageNetTrainTransform(Normalization.ImageNet, 32);
        var strict = new DataLoader(ds, null, t, new LoaderOptions(4, Shuffle: false, Seed: 1, Workers: 1));
        var e = Assert.Throws<ImageDecodeException>(() => strict.Epoch(0).ToList());
        Assert.Contains("zz_bad.jpg", e.Message);

        var lenient = new DataLoader(ds, null, t, new LoaderOptions(4, Shuffle: false, Seed: 1, Workers: 1, SkipUndecodable: true));
        var warnings = new List<string>();
        lenient.Warning += warnings.Add;
        int served = lenient.Epoch(0).Sum(b => b.Count);
        Assert.Equal(6, served);
        Assert.Equal(1, lenient.SkippedImages);
        Assert.Contains("zz_bad.jpg", Assert.Single(warnings));
    }

    [Fact]
    public void Leaving_an_epoch_early_stops_the_workers_and_prefetch_is_bounded()
    {
        var counting = new CountingDataset(cifar.Train);
        var loader = new DataLoader(counting, [.. Enumerable.Range(0, 2000)], CifarTransform.Eval(Normalization.Cifar10),
            new LoaderOptions(64, Shuffle: true, Seed: 1, Workers: 2, Prefetch: 4));
        foreach (var b in loader.Epoch(0)) { b.Dispose(); break; }
        int after = counting.Loads;
        Thread.Sleep(200);
        Assert.Equal(after, counting.Loads);
        Assert.True(after <= (1 + 4 + 2) * 64, $"{after} images loaded for one consumed batch of 64");
    }

    private sealed class CountingDataset(IImageDataset inner) : IImageDataset
    {
        private int _loads;
        public int Loads => Volatile.Read(ref _loads);
        public string Source => inner.Source;
        public int Count => inner.Count;
        public IReadOnlyList<string> Classes => inner.Classes;
        public int LabelOf(int index) => inner.LabelOf(index);
        public string Describe(int index) => inner.Describe(index);
        public RgbImage Load(int index)
        {
            Interlocked.Increment(ref _loads);
            return inner.Load(index);
        }
    }
}
