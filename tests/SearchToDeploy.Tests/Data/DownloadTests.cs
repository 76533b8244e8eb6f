using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Download;

namespace SearchToDeploy.Tests.Data;

/// <summary>The downloader against a real HTTP server on loopback serving a real .tar.gz.</summary>
public sealed class DownloadTests
{
    private static byte[] CifarLikeArchive()
    {
        using var src = new TempDir();
        string top = Directory.CreateDirectory(src["cifar-10-batches-bin"]).FullName;
        File.WriteAllBytes(Path.Combine(top, "test_batch.bin"), new byte[3073 * 2]);
        File.WriteAllLines(Path.Combine(top, "batches.meta.txt"), ["a", "b"]);
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            TarFile.CreateFromDirectory(top, gz, includeBaseDirectory: true);
        return ms.ToArray();
    }

    /// <summary>What .downloads holds besides the datasets' lock files (which stay, as lock files do).</summary>
    private static string[] Staged(TempDir root) => [.. Directory.GetFiles(root[".downloads"]).Where(f => !f.EndsWith(".lock", StringComparison.Ordinal))];

    private static string Md5(byte[] b) => Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(b));

    /// <summary>Serves one body at http://127.0.0.1:port/file until disposed, and the rest of it to a range request ("bytes=N-").</summary>
    private sealed class LoopbackServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        /// <param name="stallAfter">The first request gets only this many bytes of the body, then nothing (a stalled connection), when given.</param>
        public LoopbackServer(byte[] body, int? stallAfter = null)
        {
            int port = FreePort();
            Url = $"http://127.0.0.1:{port}/archive.tar.gz";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext ctx;
                    try { ctx = await _listener.GetContextAsync(); } catch { return; }
                    Requests++;
                    int from = 0;
                    if (ctx.Request.Headers["Range"] is { } range && range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-'))
                    {
                        from = int.Parse(range[6..^1], System.Globalization.CultureInfo.InvariantCulture);
                        Ranges.Add(from);
                        if (from >= body.Length)
                        {
                            ctx.Response.StatusCode = 416;
                            ctx.Response.Headers["Content-Range"] = $"bytes */{body.Length}";
                            ctx.Response.Close();
                            continue;
                        }
                        ctx.Response.StatusCode = 206;
                        ctx.Response.Headers["Content-Range"] = $"bytes {from}-{body.Length - 1}/{body.Length}";
                    }
                    ctx.Response.ContentLength64 = body.Length - from;
                    if (stallAfter is { } sent && Requests == 1)
                    {
                        await ctx.Response.OutputStream.WriteAsync(body.AsMemory(0, sent));
                        await ctx.Response.OutputStream.FlushAsync();
                        continue; // the rest never comes; closed with the listener
                    }
                    await ctx.Response.OutputStream.WriteAsync(body.AsMemory(from));
                    ctx.Response.Close();
                }
            });
        }
        public string Url { get; }
        public int Requests { get; private set; }
        /// <summary>The starts of the range requests received.</summary>
        public List<int> Ranges { get; } = [];
        public void Dispose() => _listener.Close();
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [Fact]
    public async Task Downloads_checks_md5_and_extracts_into_place()
    {
        var archive = CifarLikeArchive();
        using var server = new LoopbackServer(archive);
        using var root = new TempDir();
        var spec = new DownloadSpec("cifar10", "cifar-10-batches-bin", [new RemoteFile(server.Url, "cifar-10-binary.tar.gz", Md5(archive))], true);
        var log = new StringWriter();
        using var http = DatasetDownloader.CreateClient();
        await new DatasetDownloader(http, log).EnsureAsync(spec, root.Path);
        Assert.True(File.Exists(root["cifar-10-batches-bin/test_batch.bin"]));
        Assert.Contains("downloading cifar-10-binary.tar.gz", log.ToString());
        Assert.Empty(Directory.GetFileSystemEntries(root.Path, ".extract-*"));
        // Present now: a second call does not fetch again.
        await new DatasetDownloader(http, log).EnsureAsync(spec, root.Path);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Wrong_md5_is_refused_and_leaves_nothing_in_place()
    {
        var archive = CifarLikeArchive();
        using var server = new LoopbackServer(archive);
        using var root = new TempDir();
        var spec = new DownloadSpec("cifar10", "cifar-10-batches-bin", [new RemoteFile(server.Url, "cifar-10-binary.tar.gz", new string('0', 32))], true);
        using var http = DatasetDownloader.CreateClient();
        var e = await Assert.ThrowsAsync<DatasetFormatException>(() => new DatasetDownloader(http, TextWriter.Null).EnsureAsync(spec, root.Path));
        Assert.Contains("expected the official 00000000", e.Message);
        Assert.False(Directory.Exists(root["cifar-10-batches-bin"]));
        Assert.Empty(Staged(root));
    }

    [Fact]
    public async Task Without_network_the_error_says_where_to_put_a_copy_and_a_placed_copy_is_used()
    {
        using var root = new TempDir();
        var archive = CifarLikeArchive();
        var spec = new DownloadSpec("cifar10", "cifar-10-batches-bin",
            [new RemoteFile($"http://127.0.0.1:{FreePort()}/cifar-10-binary.tar.gz", "cifar-10-binary.tar.gz", Md5(archive))], true);
        using var http = DatasetDownloader.CreateClient();
        var e = await Assert.ThrowsAsync<DatasetNotFoundException>(() => new DatasetDownloader(http, TextWriter.Null).EnsureAsync(spec, root.Path));
        Assert.Contains($"put it at {root["cifar-10-binary.tar.gz"]}", e.Message);

        File.WriteAllBytes(root["cifar-10-binary.tar.gz"], archive);
        await new DatasetDownloader(http, TextWriter.Null).EnsureAsync(spec, root.Path);
        Assert.True(File.Exists(root["cifar-10-batches-bin/batches.meta.txt"]));
        Assert.True(File.Exists(root["cifar-10-binary.tar.gz"]), "a copy placed by hand is kept");
    }

    [Fact]
    public async Task A_folder_an_interrupted_extraction_left_is_not_taken_for_the_dataset()
    {
        using var root = new TempDir();
        Directory.CreateDirectory(root["cifar-10-batches-bin"]);
        File.WriteAllLines(root["cifar-10-batches-bin/batches.meta.txt"], ["a", "b"]);
        var spec = new DownloadSpec("cifar10", "cifar-10-batches-bin", [new RemoteFile("http://127.0.0.1:1/x.tar.gz", "cifar-10-binary.tar.gz", new string('0', 32))], true,
            Expected: ["test_batch.bin", "batches.meta.txt"]);
        using var http = DatasetDownloader.CreateClient();
        var e = await Assert.ThrowsAsync<DatasetFormatException>(() => new DatasetDownloader(http, TextWriter.Null).EnsureAsync(spec, root.Path));
        Assert.Contains($"{root["cifar-10-batches-bin"]}: incomplete (no test_batch.bin); delete the folder", e.Message);
        Assert.Equal(["test_batch.bin", "batches.meta.txt"], DownloadSpec.Cifar10.MissingFrom(root.Path + "/none").Where(f => f is "test_batch.bin" or "batches.meta.txt"));

        // Imagenette: train/ and val/ exist from the first file a manual extraction writes; its counts tell.
        foreach (var split in new[] { "train", "val" })
            foreach (var (wnid, _, _, _) in Imagenette.Classes) Directory.CreateDirectory(root[$"imagenette2-160/{split}/{wnid}"]);
        var cut = Assert.Throws<DatasetFormatException>(() => DatasetDownloader.IsPresent(DownloadSpec.Imagenette, root.Path));
        Assert.Contains($"{root["imagenette2-160"]}: incomplete (", cut.Message);
        Assert.Contains("images; the official train split has", cut.Message);
    }

    [Fact]
    public async Task A_verified_download_whose_extraction_failed_is_used_again_without_fetching()
    {
        var archive = CifarLikeArchive();
        using var server = new LoopbackServer(archive);
        using var root = new TempDir();
        bool refuse = true;
        var spec = new DownloadSpec("cifar10", "cifar-10-batches-bin", [new RemoteFile(server.Url, "cifar-10-binary.tar.gz", Md5(archive))], true,
            Finish: _ => { if (refuse) throw new DatasetFormatException("refused once"); });
        using var http = DatasetDownloader.CreateClient();
        await Assert.ThrowsAsync<DatasetFormatException>(() => new DatasetDownloader(http, TextWriter.Null).EnsureAsync(spec, root.Path));
        refuse = false;
        var log = new StringWriter();
        await new DatasetDownloader(http, log).EnsureAsync(spec, root.Path);
        Assert.Equal(1, server.Requests);
        Assert.Contains("downloaded before", log.ToString());
        Assert.True(File.Exists(root["cifar-10-batches-bin/test_batch.bin"]));
        Assert.Empty(Staged(root));
    }

    [Fact]
    public async Task A_plain_file_placed_by_hand_is_copied_into_place_through_a_rename()
    {
        using var root = new TempDir();
        byte[] mat = [.. Enumerable.Range(0, 5000).Select(i => (byte)i)];
        File.WriteAllBytes(root["train_32x32.mat"], mat);
        var spec = new DownloadSpec("svhn", "svhn", [new RemoteFile("http://127.0.0.1:1/train_32x32.mat", "train_32x32.mat", Md5(mat))], false);
        using var http = DatasetDownloader.CreateClient();
        await new DatasetDownloader(http, TextWriter.Null).EnsureAsync(spec, root.Path);
        Assert.Equal(mat, File.ReadAllBytes(root["svhn/train_32x32.mat"]));
        Assert.True(File.Exists(root["train_32x32.mat"]), "a copy placed by hand is kept");
        Assert.Empty(Staged(root));
    }

    [Fact]
    public async Task A_connection_that_stops_sending_fails_after_the_stall_timeout_instead_of_hanging()
    {
        var archive = CifarLikeArchive();
        using var server = new LoopbackServer(archive, stallAfter: 100);
        using var root = new TempDir();
        var spec = new DownloadSpec("cifar10", "cifar-10-batches-bin", [new RemoteFile(server.Url, "cifar-10-binary.tar.gz", Md5(archive))], true);
        using var http = DatasetDownloader.CreateClient();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<DatasetNotFoundException>(() =>
            new DatasetDownloader(http, TextWriter.Null) { StallTimeout = TimeSpan.FromSeconds(1) }.EnsureAsync(spec, root.Path));
        Assert.Contains("(no data for 1 s)", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        // What came is kept, and the next run asks only for the rest.
        Assert.Contains("Running the same command again goes on from the 0.0 MB received", e.Message);
        Assert.Equal(100, new FileInfo(Assert.Single(Directory.GetFiles(root[".downloads"], "*.partial"))).Length);
        // A killed extraction's temporary folder of the same dataset is cleared on the way.
        Directory.CreateDirectory(root[".extract-cifar-10-batches-bin-0123/cifar-10-batches-bin"]);
        await new DatasetDownloader(http, TextWriter.Null) { StallTimeout = TimeSpan.FromSeconds(5) }.EnsureAsync(spec, root.Path);
        Assert.Equal([100], server.Ranges);
        Assert.True(File.Exists(root["cifar-10-batches-bin/test_batch.bin"]));
        Assert.Empty(Directory.GetDirectories(root.Path, ".extract-*"));

        // A partial longer than the file (not this file's start): the server's 416 says so, and the download starts over.
        Directory.Delete(root["cifar-10-batches-bin"], recursive: true);
        File.WriteAllBytes(root[".downloads/cifar-10-binary.tar.gz.partial"], new byte[archive.Length + 5]);
        var log = new StringWriter();
        await new DatasetDownloader(http, log) { StallTimeout = TimeSpan.FromSeconds(5) }.EnsureAsync(spec, root.Path);
        Assert.Equal([100, archive.Length + 5], server.Ranges);
        Assert.Contains("does not go on from the", log.ToString());
        Assert.True(File.Exists(root["cifar-10-batches-bin/test_batch.bin"]));
    }

    [Fact]
    public async Task A_second_download_of_the_same_dataset_is_refused_while_the_first_runs()
    {
        using var root = new TempDir();
        Directory.CreateDirectory(root[".downloads"]);
        using var first = new FileStream(root[".downloads/cifar10.lock"], FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        var spec = new DownloadSpec("cifar10", "cifar-10-batches-bin", [new RemoteFile("http://127.0.0.1:1/x.tar.gz", "cifar-10-binary.tar.gz", new string('0', 32))], true);
        using var http = DatasetDownloader.CreateClient();
        var e = await Assert.ThrowsAsync<InputException>(() => new DatasetDownloader(http, TextWriter.Null).EnsureAsync(spec, root.Path));
        Assert.Contains("another s2d data download is fetching it", e.Message);
    }
}
