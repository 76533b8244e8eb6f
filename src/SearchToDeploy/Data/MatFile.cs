using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SearchToDeploy.Data;

/// <summary>
/// Reads numeric arrays from MATLAB level-5 MAT-files (the format of SVHN's *_32x32.mat), including zlib-compressed
/// elements (MATLAB v7). MATLAB 7.3 (HDF5) files, sparse, cell, struct and complex arrays are rejected with a message.
/// </summary>
public static class MatFile
{
    private const int MiInt8 = 1, MiUInt8 = 2, MiInt16 = 3, MiUInt16 = 4, MiInt32 = 5, MiUInt32 = 6, MiSingle = 7,
        MiDouble = 9, MiInt64 = 12, MiUInt64 = 13, MiMatrix = 14, MiCompressed = 15;

    /// <summary>Reads the named variables (all numeric ones when <paramref name="names"/> is null).</summary>
    public static Dictionary<string, MatArray> Read(string path, IReadOnlyCollection<string>? names = null)
    {
        if (!File.Exists(path)) throw new DatasetNotFoundException($"{path}: file not found; expected a MATLAB .mat file");
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var header = new byte[128];
        if (fs.ReadAtLeast(header, 128, throwOnEndOfStream: false) < 128)
            throw new DatasetFormatException($"{path}: {fs.Length} bytes is too short for a MATLAB file header (128 bytes)");
        string text = Encoding.ASCII.GetString(header, 0, 116);
        if (text.StartsWith("MATLAB 7.3", StringComparison.Ordinal))
            throw new DatasetFormatException($"{path}: MATLAB 7.3 (HDF5) file; expected a level-5 MAT-file (save with -v7)");
        if (!text.StartsWith("MATLAB 5.0 MAT-file", StringComparison.Ordinal))
            throw new DatasetFormatException($"{path}: not a MATLAB level-5 MAT-file (header does not start with 'MATLAB 5.0 MAT-file')");
        if (header[126] != (byte)'I' || header[127] != (byte)'M')
            throw new DatasetFormatException($"{path}: big-endian MAT-file; expected little-endian ('IM' endian indicator)");

        var result = new Dictionary<string, MatArray>(StringComparer.Ordinal);
        var tag = new byte[8];
        while (fs.Position < fs.Length)
        {
            long start = fs.Position;
            if (fs.ReadAtLeast(tag, 8, throwOnEndOfStream: false) < 8)
                throw new DatasetFormatException($"{path}: truncated data element tag at byte {start}");
            int type = BinaryPrimitives.ReadInt32LittleEndian(tag);
            long size = BinaryPrimitives.ReadUInt32LittleEndian(tag.AsSpan(4));
            long end = fs.Position + size;
            if (end > fs.Length)
                throw new DatasetFormatException($"{path}: data element at byte {start} needs {size} bytes but the file ends at {fs.Length} (truncated)");
            if (type == MiCompressed)
            {
                using var z = new ZLibStream(new SubStream(fs, size), CompressionMode.Decompress, leaveOpen: true);
                var inner = new byte[8];
                ReadExact(z, inner, path);
                if (BinaryPrimitives.ReadInt32LittleEndian(inner) != MiMatrix)
                    throw new DatasetFormatException($"{path}: compressed element at byte {start} does not hold a matrix");
                var array = ReadMatrix(z, BinaryPrimitives.ReadUInt32LittleEndian(inner.AsSpan(4)), path, names);
                if (array is not null) result[array.Name] = array;
            }
            else if (type == MiMatrix)
            {
                var array = ReadMatrix(new SubStream(fs, size), size, path, names);
                if (array is not null) result[array.Name] = array;
            }
            fs.Position = end; // skip other elements and any padding we did not read
            if (type == MiMatrix && (fs.Position & 7) != 0) fs.Position += 8 - (fs.Position & 7);
        }
        return result;
    }

    private static MatArray? ReadMatrix(Stream s, long size, string path, IReadOnlyCollection<string>? names)
    {
        if (size == 0) return null; // an empty placeholder element
        var (flagType, flagBytes) = ReadElement(s, path);
        if (flagType != MiUInt32 || flagBytes.Length < 8)
            throw new DatasetFormatException($"{path}: matrix without array flags");
        uint flags = BinaryPrimitives.ReadUInt32LittleEndian(flagBytes);
        int cls = (int)(flags & 0xFF);
        bool complex = (flags & 0x800) != 0;

        var (_, dimBytes) = ReadElement(s, path);
        var dims = new int[dimBytes.Length / 4];
        for (int i = 0; i < dims.Length; i++) dims[i] = BinaryPrimitives.ReadInt32LittleEndian(dimBytes.AsSpan(4 * i));
        var (_, nameBytes) = ReadElement(s, path);
        string name = Encoding.UTF8.GetString(nameBytes);

        if (names is not null && !names.Contains(name)) return null;
        if (cls < 6 || cls > 15)
            throw new DatasetFormatException($"{path}: variable '{name}' is of MATLAB class {cls} (cell, struct, char, sparse or object); expected a numeric array");
        if (complex) throw new DatasetFormatException($"{path}: variable '{name}' is complex; expected a real numeric array");

        var (realType, realBytes) = ReadElement(s, path);
        long count = 1;
        foreach (int d in dims) count *= d;
        Array values = Decode(realType, realBytes, path, name);
        if (values.LongLength != count)
            throw new DatasetFormatException($"{path}: variable '{name}' has {values.LongLength} values; its dimensions [{string.Join("x", dims)}] need {count}");
        return new MatArray(name, dims, values);
    }

    private static Array Decode(int type, byte[] bytes, string path, string name)
    {
        switch (type)
        {
            case MiUInt8: return bytes;
            case MiInt8: return Array.ConvertAll(bytes, b => (sbyte)b);
            case MiInt16: return Cast<short>(bytes);
            case MiUInt16: return Cast<ushort>(bytes);
            case MiInt32: return Cast<int>(bytes);
            case MiUInt32: return Cast<uint>(bytes);
            case MiSingle: return Cast<float>(bytes);
            case MiDouble: return Cast<double>(bytes);
            case MiInt64: return Cast<long>(bytes);
            case MiUInt64: return Cast<ulong>(bytes);
            default: throw new DatasetFormatException($"{path}: variable '{name}' stores its data as type {type}; expected a numeric type");
        }
    }

    private static T[] Cast<T>(byte[] bytes) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();

    /// <summary>One data element: small (data packed in the tag) or normal (data padded to 8 bytes).</summary>
    private static (int Type, byte[] Data) ReadElement(Stream s, string path)
    {
        var tag = new byte[8];
        ReadExact(s, tag, path);
        uint first = BinaryPrimitives.ReadUInt32LittleEndian(tag);
        if ((first >> 16) != 0)
        {
            int smallSize = (int)(first >> 16);
            if (smallSize > 4) throw new DatasetFormatException($"{path}: small data element claims {smallSize} bytes (at most 4)");
            return ((int)(first & 0xFFFF), tag.AsSpan(4, smallSize).ToArray());
        }
        long size = BinaryPrimitives.ReadUInt32LittleEndian(tag.AsSpan(4));
        if (size > int.MaxValue) throw new DatasetFormatException($"{path}: data element of {size} bytes is too large");
        var data = new byte[size];
        ReadExact(s, data, path);
        int pad = (int)((8 - (size & 7)) & 7);
        if (pad > 0) ReadExact(s, new byte[pad], path);
        return ((int)first, data);
    }

    private static void ReadExact(Stream s, byte[] buffer, string path)
    {
        try
        {
            s.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw new DatasetFormatException($"{path}: data ends inside an element (truncated file)");
        }
        catch (InvalidDataException e)
        {
            throw new DatasetFormatException($"{path}: corrupt compressed element ({e.Message})");
        }
    }

    /// <summary>A read-only window of <c>length</c> bytes from the current position of a stream.</summary>
    private sealed class SubStream(Stream inner, long length) : Stream
    {
        private long _left = length;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_left <= 0) return 0;
            int n = inner.Read(buffer, offset, (int)Math.Min(count, _left));
            _left -= n;
            return n;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
