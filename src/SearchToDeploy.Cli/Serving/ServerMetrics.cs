using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace SearchToDeploy.Cli.Serving;

/// <summary>
/// What GET /metrics reports, in Prometheus's text format: requests by route and status, a request latency histogram,
/// a histogram of the images per ONNX Runtime run (dynamic batching), the images queued now, the model's load time,
/// and the process's memory: resident, and the .NET heap's size, committed and fragmented bytes (which part of the
/// resident memory the managed heap holds).
/// </summary>
public sealed class ServerMetrics(double modelLoadSeconds, Func<int> queuedImages)
{
    private readonly ConcurrentDictionary<(string Route, int Status), long> _requests = new();
    private readonly Histogram _latency = new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
    private readonly Histogram _batch = new([1, 2, 4, 8, 16, 32, 64, 128, 256]);

    public void Request(string route, int status, double seconds)
    {
        _requests.AddOrUpdate((route, status), 1, (_, n) => n + 1);
        _latency.Observe(seconds);
    }

    public void Batch(int images) => _batch.Observe(images);

    public string Render()
    {
        var sb = new StringBuilder();
        sb.Append("# HELP s2d_requests_total HTTP requests answered, by route and status.\n# TYPE s2d_requests_total counter\n");
        foreach (var ((route, status), n) in _requests.OrderBy(kv => kv.Key.Route, StringComparer.Ordinal).ThenBy(kv => kv.Key.Status))
            sb.Append(CultureInfo.InvariantCulture, $"s2d_requests_total{{route=\"{Escape(route)}\",status=\"{status}\"}} {n}\n");
        _latency.Render(sb, "s2d_request_duration_seconds", "Time from a request's arrival to its answer.");
        _batch.Render(sb, "s2d_batch_images", "Images per ONNX Runtime run (dynamic batching groups concurrent requests).");
        sb.Append("# HELP s2d_queue_images Images waiting for or in an ONNX Runtime run now.\n# TYPE s2d_queue_images gauge\n");
        sb.Append(CultureInfo.InvariantCulture, $"s2d_queue_images {queuedImages()}\n");
        sb.Append("# HELP s2d_model_load_seconds Time to load the model and check it (one image run).\n# TYPE s2d_model_load_seconds gauge\n");
        sb.Append(CultureInfo.InvariantCulture, $"s2d_model_load_seconds {modelLoadSeconds:0.######}\n");
        sb.Append("# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\n");
        sb.Append(CultureInfo.InvariantCulture, $"process_resident_memory_bytes {SearchToDeploy.Benchmarks.ProcessMemory.ResidentBytes()}\n");
        var gc = GC.GetGCMemoryInfo();
        foreach (var (name, help, value) in new[]
        {
            ("dotnet_gc_heap_size_bytes", "The .NET heap's size after the last collection.", gc.HeapSizeBytes),
            ("dotnet_gc_committed_bytes", "Memory the .NET garbage collector has committed.", gc.TotalCommittedBytes),
            ("dotnet_gc_fragmented_bytes", "Free space inside the .NET heap after the last collection.", gc.FragmentedBytes),
        })
        {
            sb.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n");
            sb.Append(CultureInfo.InvariantCulture, $"{name} {value}\n");
        }
        return sb.ToString();
    }

    private static string Escape(string label) => label.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    private sealed class Histogram(double[] bounds)
    {
        private readonly long[] _counts = new long[bounds.Length + 1];
        private double _sum;
        private long _count;
        private readonly object _gate = new();

        public void Observe(double value)
        {
            int i = 0;
            while (i < bounds.Length && value > bounds[i]) i++;
            lock (_gate)
            {
                _counts[i]++;
                _sum += value;
                _count++;
            }
        }

        public void Render(StringBuilder sb, string name, string help)
        {
            sb.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} histogram\n");
            lock (_gate)
            {
                long cumulative = 0;
                for (int i = 0; i < bounds.Length; i++)
                {
                    cumulative += _counts[i];
                    sb.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{le=\"{bounds[i]}\"}} {cumulative}\n");
                }
                sb.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{le=\"+Inf\"}} {_count}\n{name}_sum {_sum:0.######}\n{name}_count {_count}\n");
            }
        }
    }
}
