using System.Buffers.Binary;
using System.Text;
using SearchToDeploy.Core.Io;

namespace SearchToDeploy.Reporting;

/// <summary>
/// Writes TensorBoard event files: TFRecord framing (length, masked CRC-32C, Event protobuf, masked CRC-32C) of
/// Event{wall_time=1, step=2, file_version=3, summary=5{value=1{tag=1, simple_value=2}}}, encoded by hand. The file is
/// appended to, as TensorFlow's writers do: a running TensorBoard reads what each epoch adds, where a file replaced by
/// a new one under the same name is not read again. What it lacks of the run's history is appended; a file that does
/// not match the history (a partial record a kill left, steps the history has not reached) is cut back or written anew.
/// </summary>
public static class TensorBoardEvents
{
    public const string FileName = "events.out.tfevents.0.s2d";

    /// <param name="scalars">The run's whole history, in step order.</param>
    public static void Write(string path, IEnumerable<Scalar> scalars)
    {
        var all = scalars.ToList();
        var (good, lastStep, lastStart, lastCount, tags) = File.Exists(path) ? Scan(path) : (0L, -1L, 0L, 0, []);
        // Steps beyond the history (another run's file), or a tag the file lacks at a step it holds (written by an earlier
        // build; a tag that starts later, after a warm-up, is only appended): written anew; the last step with fewer
        // scalars than the history's (an append cut short): that step again.
        if (all.Count > 0 && lastStep > all.Max(s => s.Step) || all.Count == 0 && lastStep >= 0 || all.Any(s => s.Step < lastStep && !tags.Contains(s.Tag)) && good > 0)
            (good, lastStep) = (0, -1);
        else if (lastStep >= 0 && lastCount < all.Count(s => s.Step == lastStep))
            (good, lastStep) = (lastStart, lastStep - 1);
        using var f = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        f.SetLength(good);
        f.Seek(good, SeekOrigin.Begin);
        var buffer = new MemoryStream();
        if (good == 0) WriteRecord(buffer, Event(all.Count > 0 ? all[0].WallTime : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, 0, fileVersion: "brain.Event:2", null));
        foreach (var s in all.Where(s => s.Step > lastStep)) WriteRecord(buffer, Event(s.WallTime, s.Step, null, s));
        buffer.Position = 0;
        buffer.CopyTo(f);
        f.Flush(flushToDisk: true);
    }

    /// <summary>
    /// How much of an event file is whole records that start with the file version (bytes; a file that does not start so
    /// is worth nothing), the last step of its scalars (-1 without any), where that step's records start and how many
    /// there are, and the tags it holds.
    /// </summary>
    private static (long Good, long LastStep, long LastStart, int LastCount, HashSet<string> Tags) Scan(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var records = Records(bytes, out long good);
        long last = -1, lastStart = 0;
        int lastCount = 0;
        var tags = new HashSet<string>(StringComparer.Ordinal);
        if (records.Count == 0 || !HasFileVersion(bytes.AsSpan(records[0].Offset, records[0].Length))) return (0, -1, 0, 0, tags);
        foreach (var (pos, offset, length) in records)
        {
            if (ParseScalar(bytes.AsSpan(offset, length)) is not { } s) continue;
            tags.Add(s.Tag);
            if (s.Step > last) (last, lastStart, lastCount) = (s.Step, pos, 0);
            if (s.Step == last) lastCount++;
        }
        return (good, last, lastStart, lastCount, tags);
    }

    /// <summary>
    /// The whole records at the start of an event file (where each starts, and its data), both CRCs checked; <paramref name="end"/>
    /// is where they end: the file's length, or where a bad or cut record begins.
    /// </summary>
    private static List<(long Pos, int Offset, int Length)> Records(byte[] bytes, out long end)
    {
        var records = new List<(long, int, int)>();
        long pos = 0;
        while (pos + 12 <= bytes.Length)
        {
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan((int)pos, 8));
            long room = bytes.Length - pos - 16; // negative where even the data's CRC cannot follow
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)pos + 8)) != MaskedCrc(bytes.AsSpan((int)pos, 8)) || room < 0 || n > (ulong)room) break;
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)pos + 12 + (int)n)) != MaskedCrc(bytes.AsSpan((int)pos + 12, (int)n))) break;
            records.Add((pos, (int)pos + 12, (int)n));
            pos += 16 + (long)n;
        }
        end = pos;
        return records;
    }

    private static bool HasFileVersion(ReadOnlySpan<byte> e)
    {
        int i = 0;
        while (i < e.Length)
        {
            byte key = e[i++];
            switch (key)
            {
                case 0x09: i += 8; break;
                case 0x10: ReadVarint(e, ref i); break;
                case 0x1A: return true;
                default: return false;
            }
        }
        return false;
    }

    private static byte[] Event(double wallTime, long step, string? fileVersion, Scalar? scalar)
    {
        var e = new MemoryStream();
        e.WriteByte(0x09);
        Span<byte> d = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(d, wallTime);
        e.Write(d);
        e.WriteByte(0x10);
        WriteVarint(e, (ulong)step);
        if (fileVersion is not null) WriteBytes(e, 0x1A, Encoding.UTF8.GetBytes(fileVersion));
        if (scalar is not null)
        {
            var value = new MemoryStream();
            WriteBytes(value, 0x0A, Encoding.UTF8.GetBytes(scalar.Tag));
            value.WriteByte(0x15);
            Span<byte> f = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(f, (float)scalar.Value);
            value.Write(f);
            var summary = new MemoryStream();
            WriteBytes(summary, 0x0A, value.ToArray());
            WriteBytes(e, 0x2A, summary.ToArray());
        }
        return e.ToArray();
    }

    private static void WriteBytes(Stream s, byte tag, byte[] data)
    {
        s.WriteByte(tag);
        WriteVarint(s, (ulong)data.Length);
        s.Write(data);
    }

    private static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80) { s.WriteByte((byte)(v | 0x80)); v >>= 7; }
        s.WriteByte((byte)v);
    }

    private static void WriteRecord(Stream s, byte[] data)
    {
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)data.Length);
        Span<byte> crc = stackalloc byte[4];
        s.Write(len);
        BinaryPrimitives.WriteUInt32LittleEndian(crc, MaskedCrc(len));
        s.Write(crc);
        s.Write(data);
        BinaryPrimitives.WriteUInt32LittleEndian(crc, MaskedCrc(data));
        s.Write(crc);
    }

    internal static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        uint c = Crc32C(data);
        return ((c >> 15) | (c << 17)) + 0xa282ead8u;
    }

    private static readonly uint[] Table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0x82F63B78u ^ (c >> 1) : c >> 1;
            t[i] = c;
        }
        return t;
    }

    /// <summary>CRC-32C (Castagnoli), as TFRecord uses.</summary>
    internal static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data) c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }

    /// <summary>Reads the scalars back (for tests and tools): checks both CRCs of every record.</summary>
    public static List<Scalar> Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var records = Records(bytes, out long end);
        if (end != bytes.Length) throw new InvalidDataException($"{path}: a bad or cut record at byte {end}");
        return [.. records.Select(r => ParseScalar(bytes.AsSpan(r.Offset, r.Length))).OfType<Scalar>()];
    }

    private static Scalar? ParseScalar(ReadOnlySpan<byte> e)
    {
        double wall = 0; long step = 0; string? tag = null; float value = 0;
        int i = 0;
        while (i < e.Length)
        {
            byte key = e[i++];
            switch (key)
            {
                case 0x09: wall = BinaryPrimitives.ReadDoubleLittleEndian(e[i..]); i += 8; break;
                case 0x10: step = (long)ReadVarint(e, ref i); break;
                case 0x1A: i += (int)ReadVarint(e, ref i); break;
                case 0x2A:
                    int sl = (int)ReadVarint(e, ref i);
                    var summary = e.Slice(i, sl); i += sl;
                    int j = 0;
                    if (summary[j++] != 0x0A) return null;
                    int vl = (int)ReadVarint(summary, ref j);
                    var v = summary.Slice(j, vl);
                    int k = 0;
                    while (k < v.Length)
                    {
                        byte vk = v[k++];
                        if (vk == 0x0A) { int tl = (int)ReadVarint(v, ref k); tag = Encoding.UTF8.GetString(v.Slice(k, tl)); k += tl; }
                        else if (vk == 0x15) { value = BinaryPrimitives.ReadSingleLittleEndian(v[k..]); k += 4; }
                        else return null;
                    }
                    break;
                default: return null;
            }
        }
        return tag is null ? null : new Scalar(tag, step, value, wall);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> b, ref int i)
    {
        ulong v = 0; int shift = 0;
        while (true)
        {
            byte x = b[i++];
            v |= (ulong)(x & 0x7F) << shift;
            if (x < 0x80) return v;
            shift += 7;
        }
    }
}
