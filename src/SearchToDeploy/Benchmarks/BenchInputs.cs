using Google.Protobuf;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Runs.Training;

namespace SearchToDeploy.Benchmarks;

/// <summary>What the runtime comparisons feed both runtimes: a trained network's ONNX model, and seeded input batches.</summary>
public static class BenchInputs
{
    /// <summary>The ONNX model of <paramref name="model"/> at its input size (the exporter reads the weights on the CPU).</summary>
    public static byte[] Onnx(TrainedModel model) =>
        OnnxModelFile.CreateModel(NetworkExporter.Export(model.Network, model.Header.InputSize)).ToByteArray();

    /// <summary><paramref name="count"/> NCHW images of standard normal noise (the scale of normalised images), seeded.</summary>
    public static float[] NormalImages(int count, int size, int seed = 0)
    {
        var x = new float[count * 3 * size * size];
        var rng = new Random(seed);
        for (int i = 0; i < x.Length; i += 2)
        {
            // Box-Muller: a pair of standard normals from two uniforms.
            double u = 1 - rng.NextDouble(), v = rng.NextDouble(), r = Math.Sqrt(-2 * Math.Log(u));
            x[i] = (float)(r * Math.Cos(2 * Math.PI * v));
            if (i + 1 < x.Length) x[i + 1] = (float)(r * Math.Sin(2 * Math.PI * v));
        }
        return x;
    }
}
