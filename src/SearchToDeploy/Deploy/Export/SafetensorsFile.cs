using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SearchToDeploy.Core.Io;

namespace SearchToDeploy.Deploy.Export;

/// <summary>
/// The safetensors format (what Hugging Face's <c>safetensors.torch.load_file</c> reads): an 8-byte little-endian header
/// length, a JSON header naming each tensor's dtype, shape and byte range (plus string <c>__metadata__</c>), padded with
/// spaces to a multiple of 8, then the tensors' bytes back to back, little-endian, row-major.
/// </summary>
public static class SafetensorsFile
{
    /// <summary>One tensor: its name, dtype ("F32" or "I64"), shape and raw little-endian bytes.</summary>
    public sealed record Entry(string Name, string Dtype, long[] Shape, byte[] Bytes);

    public static void Write(string path, IReadOnlyList<Entry> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) };
        long offset = 0;
        foreach (var t in tensors)
        {
            if (header.ContainsKey(t.Name)) throw new ArgumentException($"tensor name '{t.Name}' twice");
            long elements = t.Shape.Aggregate(1L, (a, b) => a * b);
            if (elements * Size(t.Dtype) != t.Bytes.Length) throw new ArgumentException($"{t.Name}: {t.Bytes.Length} bytes for shape [{string.Join(",", t.Shape)}] of {t.Dtype}");
            header[t.Name] = new JsonObject { ["dtype"] = t.Dtype, ["shape"] = new JsonArray([.. t.Shape.Select(d => (JsonNode)d)]), ["data_offsets"] = new JsonArray(offset, offset + t.Bytes.Length) };
            offset += t.Bytes.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        AtomicFile.Write(path, s =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            s.Write(length);
            s.Write(json);
            for (int i = json.Length; i < padded; i++) s.WriteByte((byte)' ');
            foreach (var t in tensors) s.Write(t.Bytes);
        });
    }

    /// <summary>Reads a file back (checking that the byte ranges tile the data exactly), in the header's order of offsets.</summary>
    public static (List<Entry> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        byte[] all = File.ReadAllBytes(path);
        if (all.Length < 8) throw new InputException($"{path}: not a safetensors file (under 8 bytes)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(all);
        if (n > (ulong)(all.Length - 8)) throw new InputException($"{path}: not a safetensors file (header length {n} beyond the file)");
        JsonObject header;
        try { header = JsonNode.Parse(all.AsSpan(8, (int)n)) as JsonObject ?? throw new InputException($"{path}: the header is not a JSON object"); }
        catch (JsonException e) { throw new InputException($"{path}: the header is not JSON ({e.Message})"); }
        var metadata = (header["__metadata__"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>()) ?? [];
        int data = 8 + (int)n;
        var tensors = new List<(long Start, Entry Entry)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            var o = node as JsonObject ?? throw new InputException($"{path}: tensor '{name}' has no description");
            string dtype;
            long[] shape;
            long start, end;
            try
            {
                dtype = o["dtype"]!.GetValue<string>();
                shape = [.. o["shape"]!.AsArray().Select(d => d!.GetValue<long>())];
                var range = o["data_offsets"]!.AsArray();
                (start, end) = (range[0]!.GetValue<long>(), range[1]!.GetValue<long>());
            }
            catch (Exception e) when (e is InvalidOperationException or NullReferenceException or FormatException or ArgumentOutOfRangeException)
            {
                throw new InputException($"{path}: tensor '{name}' needs \"dtype\" (text), \"shape\" (whole numbers) and \"data_offsets\" (two whole numbers)");
            }
            if (start < 0 || end < start || data + end > all.Length || shape.Aggregate(1L, (a, b) => a * b) * Size(dtype) != end - start)
                throw new InputException($"{path}: tensor '{name}' has a byte range [{start}, {end}) that does not fit its shape or the file");
            tensors.Add((start, new Entry(name, dtype, shape, all[(data + (int)start)..(data + (int)end)])));
        }
        tensors.Sort((a, b) => a.Start.CompareTo(b.Start));
        long expected = 0;
        foreach (var (start, e) in tensors)
        {
            if (start != expected) throw new InputException($"{path}: tensor '{e.Name}' starts at {start}, expected {expected} (gaps or overlaps)");
            expected += e.Bytes.Length;
        }
        if (data + expected != all.Length) throw new InputException($"{path}: {all.Length - data - expected} bytes after the last tensor");
        return ([.. tensors.Select(t => t.Entry)], metadata);
    }

    private static int Size(string dtype) => dtype switch
    {
        "F32" or "I32" => 4,
        "I64" or "F64" => 8,
        "F16" or "BF16" => 2,
        _ => throw new InputException($"safetensors dtype '{dtype}' is not one s2d reads or writes"),
    };
}
