using System.Text;
using System.Text.Json.Nodes;
using SearchToDeploy.Core.Io;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Checkpoints;

/// <summary>
/// One checkpoint file: a JSON header (anything the run needs to continue: epoch, options, history) and named
/// tensors (model state, optimizer state), written atomically (temp file + rename). Format:
/// "S2DCKPT1", int32 header length, UTF-8 JSON, int32 tensor count, then per tensor: name, dtype, rank, shape, bytes.
/// </summary>
public static class CheckpointFile
{
    private static readonly byte[] Magic = "S2DCKPT1"u8.ToArray();

    public static void Save(string path, string headerJson, IReadOnlyDictionary<string, Tensor> tensors)
    {
        AtomicFile.Write(path, stream =>
        {
            using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            w.Write(Magic);
            var header = Encoding.UTF8.GetBytes(headerJson);
            w.Write(header.Length);
            w.Write(header);
            w.Write(tensors.Count);
            foreach (var (name, tensor) in tensors)
            {
                // Every handle on the way (detach, cpu, contiguous) shares or copies the storage: all are freed here,
                // not left to the finalizer holding a model-sized buffer.
                using var scope = torch.NewDisposeScope();
                var t = tensor.detach().cpu().contiguous();
                w.Write(name);
                w.Write((int)t.dtype);
                w.Write((int)t.dim());
                foreach (long d in t.shape) w.Write(d);
                var bytes = t.bytes;
                w.Write((long)bytes.Length);
                w.Write(bytes);
            }
        });
    }

    /// <summary>A run folder's options as it was started (runs write it beside their checkpoints).</summary>
    public const string OptionsFileName = "options.json";

    /// <summary>Reads only a checkpoint's JSON header (no tensors).</summary>
    public static string LoadHeader(string path) => Read(path, r => ReadHeader(path, r));

    /// <summary>Opens a checkpoint for <paramref name="read"/>; a missing or truncated file is an input error naming it.</summary>
    private static T Read<T>(string path, Func<BinaryReader, T> read)
    {
        if (!File.Exists(path)) throw new InputException($"{path}: checkpoint not found");
        try
        {
            using var fs = File.OpenRead(path);
            using var r = new BinaryReader(fs, Encoding.UTF8);
            return read(r);
        }
        catch (EndOfStreamException)
        {
            throw new InputException($"{path}: truncated checkpoint");
        }
        catch (FormatException e)
        {
            throw Corrupt(path, $"a malformed length prefix: {e.Message}"); // BinaryReader.ReadString's 7-bit length
        }
    }

    private static string ReadHeader(string path, BinaryReader r)
    {
        var magic = r.ReadBytes(Magic.Length);
        if (magic.Length < Magic.Length && Magic.AsSpan().StartsWith(magic)) throw new EndOfStreamException(); // an empty or cut file
        if (!magic.AsSpan().SequenceEqual(Magic))
            throw new InputException($"{path}: not a SearchToDeploy checkpoint (bad magic)");
        int length = r.ReadInt32();
        if (length < 0) throw Corrupt(path, $"a header of {length} bytes");
        if (length > Remaining(r)) throw new EndOfStreamException(); // before allocating what a corrupt length claims
        var header = r.ReadBytes(length);
        if (header.Length != length) throw new EndOfStreamException();
        return Encoding.UTF8.GetString(header);
    }

    /// <summary>
    /// Reads a checkpoint; the tensors are detached from any dispose scope (the caller owns them). A truncated or
    /// corrupt file is an input error naming it, and the tensors read before the fault are freed.
    /// </summary>
    public static (string HeaderJson, Dictionary<string, Tensor> Tensors) Load(string path) => Read(path, r =>
    {
        string header = ReadHeader(path, r);
        int count = r.ReadInt32();
        if (count < 0) throw Corrupt(path, $"a tensor count of {count}");
        var tensors = new Dictionary<string, Tensor>(Math.Min(count, 4096));
        try
        {
            for (int i = 0; i < count; i++)
            {
                var (name, t) = ReadTensor(path, r);
                tensors[name] = t;
            }
            if (Remaining(r) != 0) throw Corrupt(path, $"{Remaining(r)} bytes after its {count} tensors");
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return (header, tensors);
    });

    /// <summary>
    /// Loads a checkpoint's "model." tensors into <paramref name="module"/> (strictly: every name and shape); tensors
    /// that do not fit are an input error naming the file and <paramref name="what"/> they were expected to fit.
    /// </summary>
    public static void LoadModel(string path, nn.Module module, IReadOnlyDictionary<string, Tensor> tensors, string what)
    {
        var model = tensors.Where(kv => kv.Key.StartsWith("model.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[6..], kv => kv.Value);
        try
        {
            using (torch.no_grad()) module.load_state_dict(model, strict: true);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new InputException($"{path}: its weights do not fit {what} ({e.Message})");
        }
    }

    /// <summary>The names of a checkpoint's tensors, in file order, without reading their data.</summary>
    public static IReadOnlyList<string> TensorNames(string path) => Read(path, r =>
    {
        ReadHeader(path, r);
        int count = r.ReadInt32();
        if (count < 0) throw Corrupt(path, $"a tensor count of {count}");
        var names = new List<string>(Math.Min(count, 4096));
        for (int i = 0; i < count; i++)
        {
            var (name, _, _, length) = ReadTensorHeader(path, r);
            if (r.BaseStream.Seek(length, SeekOrigin.Current) > r.BaseStream.Length) throw new EndOfStreamException();
            names.Add(name);
        }
        return names;
    });

    private static (string Name, Tensor Tensor) ReadTensor(string path, BinaryReader r)
    {
        var (name, dtype, shape, length) = ReadTensorHeader(path, r);
        var bytes = r.ReadBytes((int)length);
        if (bytes.Length != length) throw new EndOfStreamException();
        var t = torch.empty(shape, dtype);
        t.bytes = bytes;
        return (name, t.DetachFromDisposeScope());
    }

    /// <summary>A tensor record up to its data: name, dtype, shape and the byte count, checked against each other.</summary>
    private static (string Name, ScalarType Dtype, long[] Shape, long Length) ReadTensorHeader(string path, BinaryReader r)
    {
        string name = r.ReadString();
        var dtype = (ScalarType)r.ReadInt32();
        if (!Enum.IsDefined(dtype)) throw Corrupt(path, $"tensor {name} with unknown dtype {(int)dtype}");
        int rank = r.ReadInt32();
        if (rank is < 0 or > 16) throw Corrupt(path, $"tensor {name} of rank {rank}");
        var shape = new long[rank];
        for (int d = 0; d < rank; d++)
            if ((shape[d] = r.ReadInt64()) < 0) throw Corrupt(path, $"tensor {name} with a dimension of {shape[d]}");
        long length = r.ReadInt64();
        long expected;
        try { expected = checked(shape.Aggregate(1L, (a, b) => a * b) * ElementSize(dtype)); }
        catch (OverflowException) { throw Corrupt(path, $"tensor {name} of shape [{string.Join(", ", shape)}]"); }
        if (length != expected) throw Corrupt(path, $"tensor {name} [{string.Join(", ", shape)}] {dtype} stored in {length} bytes, not {expected}");
        if (length > int.MaxValue) throw Corrupt(path, $"tensor {name} of {length} bytes (at most {int.MaxValue})");
        if (length > Remaining(r)) throw new EndOfStreamException();
        return (name, dtype, shape, length);
    }

    private static long Remaining(BinaryReader r) => r.BaseStream.Length - r.BaseStream.Position;

    private static long ElementSize(ScalarType dtype)
    {
        switch (dtype)
        {
            case ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool: return 1;
            case ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16: return 2;
            case ScalarType.Int32 or ScalarType.Float32: return 4;
            case ScalarType.Int64 or ScalarType.Float64: return 8;
        }
        using var probe = torch.empty(0, dtype); // the rarer types: as libtorch stores them
        return probe.ElementSize;
    }

    private static InputException Corrupt(string path, string what) => new($"{path}: corrupt checkpoint ({what})");

    /// <summary>The names of <paramref name="optionsType"/>'s <see cref="RuntimeSettingAttribute"/> settings.</summary>
    /// <summary>The settings of <paramref name="optionsType"/> that are not its identity: runtime settings, and (unless asked) locations.</summary>
    private static HashSet<string> NotIdentity(Type optionsType, bool includeLocations) =>
        [.. optionsType.GetProperties().Where(p => p.IsDefined(typeof(RuntimeSettingAttribute), inherit: true) ||
                                                   !includeLocations && p.IsDefined(typeof(LocationSettingAttribute), inherit: true)).Select(p => p.Name)];

    /// <summary>
    /// An options JSON object of <paramref name="optionsType"/> without its runtime and location settings: what decides
    /// the run's result.
    /// </summary>
    /// <param name="includeLocations">Keep the location settings (the form of builds before they were left out).</param>
    public static string ComparableOptions(Type optionsType, string optionsJson, bool includeLocations = false) =>
        Comparable(optionsType, optionsJson, includeLocations).ToJsonString();

    private static JsonObject Comparable(Type optionsType, string optionsJson, bool includeLocations = false)
    {
        var node = JsonNode.Parse(optionsJson)!.AsObject();
        var left = NotIdentity(optionsType, includeLocations);
        foreach (var key in node.Select(kv => kv.Key).Where(left.Contains).ToList())
            node.Remove(key);
        return node;
    }

    /// <summary>
    /// The settings that differ between a checkpoint's options and the current ones (runtime and location settings left out), as "Key: saved -> now" for an error message; empty when they match.
    /// Nested settings are followed down to what changed ("SearchSpace.Normal[3][1]: "max_pool_3x3" -> ..."); an
    /// object whose "Name" changed is named by it ("SearchSpace: "s1" -> "darts""); long values are shortened.
    /// </summary>
    public static IReadOnlyList<string> OptionDifferences(Type optionsType, string savedJson, string nowJson)
    {
        var found = new List<string>();
        JsonObject saved = Comparable(optionsType, savedJson), now = Comparable(optionsType, nowJson);
        Differences("", saved, now, found);
        return found;
    }

    private static void Differences(string path, JsonNode? saved, JsonNode? now, List<string> found)
    {
        if (Json(saved) == Json(now)) return;
        switch (saved, now)
        {
            case (JsonObject a, JsonObject b) when Json(a["Name"]) == Json(b["Name"]):
                foreach (var k in a.Select(kv => kv.Key).Concat(b.Select(kv => kv.Key).Where(k => !a.ContainsKey(k))))
                    Differences(path.Length == 0 ? k : $"{path}.{k}", a[k], b[k], found);
                break;
            case (JsonArray a, JsonArray b) when a.Count == b.Count:
                for (int i = 0; i < a.Count; i++) Differences($"{path}[{i}]", a[i], b[i], found);
                break;
            default:
                found.Add($"{path}: {Short(saved)} -> {Short(now)}");
                break;
        }
    }

    private static string Json(JsonNode? v) => v is null ? "null" : v.ToJsonString();

    /// <summary>A value for a message: an object by its "Name" where it has one, anything longer than 60 characters cut.</summary>
    private static string Short(JsonNode? v)
    {
        string s = v is JsonObject o && o["Name"] is { } name ? Json(name) : Json(v);
        return s.Length <= 60 ? s : s[..57] + "...";
    }

    /// <summary>The error for a resume whose settings differ from the checkpoint's, naming each difference.</summary>
    public static InputException SettingsChanged(string checkpoint, IReadOnlyList<string> differences, string optionsFile) =>
        new($"{checkpoint}: the checkpoint was made with other settings ({string.Join("; ", differences)}); resume with the " +
            $"settings of {optionsFile} (--resume alone reads them) or start a new run folder");
}
