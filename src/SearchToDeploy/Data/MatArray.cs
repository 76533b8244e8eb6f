
namespace SearchToDeploy.Data;

/// <summary>A numeric array read from a MATLAB file: dimensions in MATLAB (column-major) order, values as stored.</summary>
public sealed class MatArray(string name, int[] dims, Array values)
{
    public string Name { get; } = name;
    public int[] Dims { get; } = dims;
    /// <summary>The values in column-major order, in the element type they were stored with (byte[], double[], ...).</summary>
    public Array Values { get; } = values;
    public long Length => Values.LongLength;

    public double this[long i] => Values switch
    {
        byte[] a => a[i],
        sbyte[] a => a[i],
        short[] a => a[i],
        ushort[] a => a[i],
        int[] a => a[i],
        uint[] a => a[i],
        float[] a => a[i],
        double[] a => a[i],
        long[] a => a[i],
        ulong[] a => a[i],
        _ => throw new InvalidOperationException($"unsupported element type {Values.GetType()}"),
    };

    /// <summary>The values as bytes; fails unless every value is an integer in 0..255.</summary>
    public byte[] ToBytes(string file)
    {
        if (Values is byte[] b) return b;
        var result = new byte[Values.LongLength];
        for (long i = 0; i < result.LongLength; i++)
        {
            double v = this[i];
            if (v < 0 || v > 255 || v != Math.Floor(v))
                throw new DatasetFormatException($"{file}: variable '{Name}' element {i} is {v}; expected an integer 0..255");
            result[i] = (byte)v;
        }
        return result;
    }
}
