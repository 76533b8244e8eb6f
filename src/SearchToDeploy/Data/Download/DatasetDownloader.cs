using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Sockets;
using System.Security.Cryptography;
using SearchToDeploy.Core.Io;

namespace SearchToDeploy.Data.Download;

/// <summary>
/// Fetches a dataset from its official address when missing, checks the published MD5, shows progress, and
/// extracts atomically (into a temporary folder, then one rename). A copy the user placed in the data root under
/// the archive's file name is used instead of the network. Without network, the error says where to put a copy.
/// </summary>
public sealed class DatasetDownloader(HttpClient http, TextWriter log)
{
    /// <summary>How long a download may go without receiving a byte before it fails.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public static HttpClient CreateClient() => new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>
    /// Whether the dataset is in place. An extracted folder that lacks what the spec expects (a manual extraction cut
    /// short: this downloader moves a folder into place only whole) is bad input naming what is missing.
    /// </summary>
    public static bool IsPresent(DownloadSpec spec, string root)
    {
        string target = Path.Combine(root, spec.Target);
        if (!spec.IsTarGz) return spec.Files.All(f => File.Exists(Path.Combine(target, f.FileName)));
        if (!Directory.Exists(target)) return false;
        var missing = spec.MissingFrom(target);
        if (missing.Count == 0 && spec.Problems?.Invoke(target) is { Count: > 0 } problems)
            throw new DatasetFormatException($"{target}: incomplete ({string.Join("; ", problems.Take(3))}); delete the folder and run " +
                                             $"s2d data download --dataset {spec.Dataset} again, or complete it from the official archive");
        if (missing.Count > 0)
            throw new DatasetFormatException($"{target}: incomplete (no {string.Join(", ", missing.Take(5))}); delete the folder and run " +
                                             $"s2d data download --dataset {spec.Dataset} again, or complete it from the official archive");
        return true;
    }

    public async Task EnsureAsync(DownloadSpec spec, string root, CancellationToken ct = default)
    {
        string target = Path.Combine(root, spec.Target);
        if (IsPresent(spec, root))
        {
            log.WriteLine($"{spec.Dataset}: present at {target}");
            return;
        }
        Directory.CreateDirectory(root);
        string staging = Path.Combine(root, ".downloads");
        Directory.CreateDirectory(staging);
        // One download of a dataset at a time: a second would write (and on failure delete) the first's files.
        FileStream held;
        try { held = new FileStream(Path.Combine(staging, spec.Dataset + ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException) { throw new InputException($"{spec.Dataset}: another s2d data download is fetching it into {root}; wait for it to end"); }
        using var _ = held;
        if (IsPresent(spec, root)) // another download may have finished between the check above and the lock
        {
            log.WriteLine($"{spec.Dataset}: present at {target}");
            return;
        }
        foreach (var file in spec.Files)
        {
            string final = spec.IsTarGz ? target : Path.Combine(target, file.FileName);
            if (!spec.IsTarGz && File.Exists(final)) continue;
            var (archive, downloaded) = await ObtainAsync(file, root, staging, ct);
            if (spec.IsTarGz) ExtractTarGz(archive, root, spec);
            else
            {
                Directory.CreateDirectory(target);
                if (!downloaded)
                {
                    // A copy, then a rename: an interrupted copy never stands in place as the file.
                    string copying = Path.Combine(staging, file.FileName + ".copying");
                    File.Copy(archive, copying, overwrite: true);
                    archive = copying;
                }
                File.Move(archive, final);
            }
            // A verified download stays in .downloads until it is in place, so a failed extraction is retried without fetching again.
            if (downloaded && File.Exists(archive)) File.Delete(archive);
            log.WriteLine($"{spec.Dataset}: {file.FileName} ready at {final}");
        }
    }

    /// <summary>A verified local copy of the file: one the user placed in the root, or a fresh download.</summary>
    private async Task<(string Path, bool Downloaded)> ObtainAsync(RemoteFile file, string root, string staging, CancellationToken ct)
    {
        string placed = Path.Combine(root, file.FileName);
        if (File.Exists(placed))
        {
            log.WriteLine($"using {placed} (placed by hand); checking MD5");
            string md5 = Md5Of(placed);
            if (!md5.Equals(file.Md5, StringComparison.OrdinalIgnoreCase))
                throw new DatasetFormatException($"{placed}: MD5 {md5}; expected the official {file.Md5}. Delete or replace the file.");
            return (placed, false);
        }

        // A verified download an earlier, failed extraction left behind.
        string done = Path.Combine(staging, file.FileName);
        if (File.Exists(done))
        {
            if (Md5Of(done).Equals(file.Md5, StringComparison.OrdinalIgnoreCase))
            {
                log.WriteLine($"using {done} (downloaded before)");
                return (done, true);
            }
            AtomicFile.TryDelete(done);
        }

        // What an interrupted download received stays in .partial, and the next one asks only for the rest (an HTTP range
        // request; a server that ignores it sends the whole file again). The MD5 at the end checks the joined file.
        string partial = Path.Combine(staging, file.FileName + ".partial");
        long have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        // A connection that stops sending fails after StallTimeout instead of hanging (the client has no overall timeout).
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stall.CancelAfter(StallTimeout);
        try
        {
            HttpResponseMessage? answer = null;
            while (answer is null)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, file.Url);
                if (have > 0) request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(have, null);
                var r = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, stall.Token);
                var range = r.Content.Headers.ContentRange;
                // The answer goes on from what was received (206 from there; 416 for a file that long: all there), or
                // ignores the range (200: the whole file). Anything else (another range, a partial longer than the file)
                // does not join: start over, in this run.
                if (have == 0 || r.StatusCode is not (System.Net.HttpStatusCode.PartialContent or System.Net.HttpStatusCode.RequestedRangeNotSatisfiable)
                    || r.StatusCode == System.Net.HttpStatusCode.PartialContent && range?.From == have
                    || r.StatusCode == System.Net.HttpStatusCode.RequestedRangeNotSatisfiable && range?.Length == have)
                {
                    answer = r;
                    continue;
                }
                log.WriteLine($"{file.FileName}: the server's answer ({(int)r.StatusCode}) does not go on from the {have:N0} bytes received; starting over");
                r.Dispose();
                AtomicFile.TryDelete(partial);
                have = 0;
            }
            using var response = answer;
            bool whole = have > 0 && response.StatusCode == System.Net.HttpStatusCode.RequestedRangeNotSatisfiable; // nothing left to fetch
            if (!whole)
            {
                response.EnsureSuccessStatusCode();
                bool resumed = have > 0 && response.StatusCode == System.Net.HttpStatusCode.PartialContent;
                if (!resumed) have = 0;
                else log.WriteLine($"going on with {file.FileName} from {have / 1e6:0.0} MB");
                long? length = response.Content.Headers.ContentLength;
                var meter = new ProgressMeter($"downloading {file.FileName}", ((length ?? 0) + have) / 1e6, "MB", log,
                    TimeSpan.FromSeconds(5), v => v.ToString("0.0"));
                await using (var source = await response.Content.ReadAsStreamAsync(stall.Token))
                await using (var dest = new FileStream(partial, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                {
                    var buffer = new byte[1 << 20];
                    long total = 0;
                    int n;
                    stall.CancelAfter(StallTimeout);
                    while ((n = await source.ReadAsync(buffer, stall.Token)) > 0)
                    {
                        stall.CancelAfter(StallTimeout);
                        await dest.WriteAsync(buffer.AsMemory(0, n), ct);
                        total += n;
                        meter.Report((have + total) / 1e6);
                    }
                    meter.Finish();
                    if (length is { } expected && total != expected)
                        throw new DatasetFormatException($"{file.Url}: received {total} bytes; the server announced {expected} (connection cut; " +
                                                         "running the same command again goes on from there)");
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException or OperationCanceledException
                                      && !ct.IsCancellationRequested)
        {
            long kept = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            string why = e is OperationCanceledException ? $"no data for {StallTimeout.TotalSeconds:0} s" : e.Message;
            throw new DatasetNotFoundException(
                $"could not download {file.Url} ({why}).{(kept > 0 ? $" Running the same command again goes on from the {kept / 1e6:0.0} MB received." : "")} " +
                $"Without network access, fetch {file.FileName} (MD5 {file.Md5}) elsewhere and put it at {placed}; it is checked and unpacked from there.");
        }

        string got = Md5Of(partial);
        if (!got.Equals(file.Md5, StringComparison.OrdinalIgnoreCase))
        {
            AtomicFile.TryDelete(partial);
            throw new DatasetFormatException($"{file.Url}: downloaded file has MD5 {got}; expected the official {file.Md5}");
        }
        File.Move(partial, done, overwrite: true);
        return (done, true);
    }

    /// <summary>Extracts into a temporary folder under the root, then moves the top folder into place in one rename.</summary>
    private void ExtractTarGz(string archive, string root, DownloadSpec spec)
    {
        string topFolder = spec.Target;
        // What a killed extraction of this dataset left (the caller holds the dataset's lock, so none is running).
        foreach (var old in Directory.GetDirectories(root, ".extract-*").Where(d => Path.GetFileName(d).StartsWith($".extract-{topFolder}-", StringComparison.Ordinal)))
            Directory.Delete(old, recursive: true);
        string temp = Path.Combine(root, $".extract-{topFolder}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            log.WriteLine($"extracting {Path.GetFileName(archive)}");
            try
            {
                using var fs = File.OpenRead(archive);
                using var gz = new GZipStream(fs, CompressionMode.Decompress);
                TarFile.ExtractToDirectory(gz, temp, overwriteFiles: false);
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
            {
                throw new DatasetFormatException($"{archive}: not a readable .tar.gz archive ({e.Message})");
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
            {
                throw new IOException($"could not extract {archive} into {root}: {e.Message} (is the disk full?)", e);
            }
            string extracted = Path.Combine(temp, topFolder);
            if (!Directory.Exists(extracted))
                throw new DatasetFormatException($"{archive}: archive has no top folder '{topFolder}/'");
            if (spec.Problems?.Invoke(extracted) is { Count: > 0 } problems)
                throw new DatasetFormatException($"the {spec.Dataset} archive does not match the published files: {string.Join("; ", problems.Take(5))}");
            spec.Finish?.Invoke(extracted);
            Directory.Move(extracted, Path.Combine(root, topFolder));
        }
        finally
        {
            if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        }
    }

    public static string Md5Of(string path)
    {
        using var fs = File.OpenRead(path);
        return Convert.ToHexStringLower(MD5.HashData(fs));
    }
}
