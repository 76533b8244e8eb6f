using Microsoft.ML.OnnxRuntime;
using SearchToDeploy.Deploy.Onnx;

namespace SearchToDeploy.Deploy.Inference;

/// <summary>
/// An ONNX Runtime session for a one-input, one-output model (an NCHW float batch in, logits out).
/// <see cref="OnnxExecutionProvider.Auto"/> tries CUDA (device 0) and falls back to the CPU where CUDA cannot be
/// loaded (ORT's GPU package on a machine without CUDA 13 / cuDNN 9, or the CPU-only package); <see cref="Provider"/>
/// says which one runs and <see cref="FallbackReason"/> why CUDA was not used. <see cref="OnnxExecutionProvider.Cuda"/>
/// fails with an <see cref="InputException"/> where CUDA is unavailable. Run is safe to call from several threads.
/// </summary>
public sealed class OnnxInference : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string _source;

    /// <summary>Loads the model file at <paramref name="modelPath"/>. <paramref name="threads"/>: intra-op threads, 0 for ORT's default.</summary>
    public OnnxInference(string modelPath, OnnxExecutionProvider provider = OnnxExecutionProvider.Auto, int threads = 0, bool memoryArena = true)
        : this(ReadModel(modelPath), $"'{Path.GetFullPath(modelPath)}'", provider, threads, memoryArena)
    {
    }

    /// <summary>Loads a serialized model (e.g. <c>ModelProto.ToByteArray()</c>).</summary>
    public OnnxInference(byte[] model, OnnxExecutionProvider provider = OnnxExecutionProvider.Auto, int threads = 0)
        : this(model, "the in-memory ONNX model", provider, threads, true)
    {
    }

    private OnnxInference(byte[] model, string source, OnnxExecutionProvider provider, int threads, bool memoryArena)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        _source = source;
        try
        {
            (_session, Provider, FallbackReason) = CreateSession(model, source, provider, threads, memoryArena);
            if (_session.InputNames.Count != 1 || _session.OutputNames.Count != 1)
            {
                int inputs = _session.InputNames.Count, outputs = _session.OutputNames.Count;
                _session.Dispose();
                throw new OnnxFormatException($"{source} has {inputs} inputs and {outputs} outputs; expected one input (an NCHW batch) and one output");
            }
        }
        catch
        {
            _runOptions.Dispose();
            throw;
        }
        InputName = _session.InputNames[0];
        OutputName = _session.OutputNames[0];
        InputShape = _session.InputMetadata[InputName].Dimensions.Select(d => (long)d).ToArray();
        Threads = threads;
    }

    /// <summary>The provider the session runs on: <see cref="OnnxExecutionProvider.Cuda"/> or <see cref="OnnxExecutionProvider.Cpu"/>.</summary>
    public OnnxExecutionProvider Provider { get; }

    /// <summary>Why <see cref="OnnxExecutionProvider.Auto"/> did not use CUDA (ORT's message); null when it did or was not asked to.</summary>
    public string? FallbackReason { get; }

    public int Threads { get; }
    public string InputName { get; }
    public string OutputName { get; }

    /// <summary>The model's input dims; -1 where a dim is symbolic (the batch).</summary>
    public IReadOnlyList<long> InputShape { get; }

    /// <summary>Runs a batch shaped like the model's input (fixed C, H, W; the batch size follows from the length).</summary>
    public float[] Run(float[] batch) => Run(batch, BatchShape(batch), out _);

    /// <summary>Runs a batch of the given shape and returns the output values (row-major).</summary>
    public float[] Run(float[] batch, long[] shape) => Run(batch, shape, out _);

    public float[] Run(float[] batch, long[] shape, out long[] outputShape)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(shape);
        long count = shape.Aggregate(1L, (a, d) => a * d);
        if (count != batch.Length)
            throw new ArgumentException($"a batch of shape [{string.Join(", ", shape)}] has {count} values, got {batch.Length}");
        using var input = OrtValue.CreateTensorValueFromMemory(batch, shape);
        using var outputs = _session.Run(_runOptions, [InputName], [input], [OutputName]);
        var output = outputs[0];
        outputShape = output.GetTensorTypeAndShape().Shape;
        return output.GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    private long[] BatchShape(float[] batch)
    {
        long perSample = 1;
        for (int i = 1; i < InputShape.Count; i++)
        {
            if (InputShape[i] <= 0)
                throw new InvalidOperationException($"{_source} has an input with symbolic dims [{string.Join(", ", InputShape)}]; pass the batch shape to Run");
            perSample *= InputShape[i];
        }
        if (batch.Length == 0 || batch.Length % perSample != 0)
            throw new ArgumentException($"a batch for input [{string.Join(", ", InputShape)}] needs a positive multiple of {perSample} values, got {batch.Length}");
        return [batch.Length / perSample, .. InputShape.Skip(1)];
    }

    private static (InferenceSession, OnnxExecutionProvider, string?) CreateSession(byte[] model, string source, OnnxExecutionProvider provider, int threads, bool memoryArena)
    {
        if (provider is OnnxExecutionProvider.Auto or OnnxExecutionProvider.Cuda)
        {
            string reason;
            var options = NewOptions(threads, memoryArena);
            try
            {
                InferenceSession? session = null;
                // Where CUDA is missing, ORT logs the failed library load as an error before throwing; the fallback reports it.
                OnnxCudaProvider.Quietly(() =>
                {
                    using var cuda = OnnxCudaProvider.Append(options);
                    session = new InferenceSession(model, options);
                });
                // auto: a provider that loads can still fail at its first run (a kernel missing for this GPU, a CUDA
                // library loaded lazily, an old driver); that is CUDA's failure, so it falls back too.
                string? failed = null;
                if (provider == OnnxExecutionProvider.Auto)
                {
                    try { FirstRun(session!); }
                    catch (OnnxRuntimeException e) { failed = $"the CUDA session's first run failed: {e.Message}"; }
                }
                if (failed is null) return (session!, OnnxExecutionProvider.Cuda, null);
                session!.Dispose();
                reason = failed;
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                reason = OnnxCudaProvider.Reason(e);
            }
            finally
            {
                options.Dispose();
            }
            if (provider == OnnxExecutionProvider.Cuda)
            {
                // A model ONNX Runtime cannot load on the CPU either is the model's fault, not CUDA's: say so.
                CpuSession(model, source, threads, memoryArena).Dispose();
                throw new InputException(
                    $"execution provider 'cuda' was requested for {source}, but ONNX Runtime could not use CUDA here ({reason}). " +
                    "It needs an NVIDIA GPU with CUDA 13 and cuDNN 9 and the Microsoft.ML.OnnxRuntime.Gpu package (S2DOrt=gpu); use 'auto' or 'cpu' otherwise.");
            }
            return (CpuSession(model, source, threads, memoryArena), OnnxExecutionProvider.Cpu, reason);
        }
        return (CpuSession(model, source, threads, memoryArena), OnnxExecutionProvider.Cpu, null);
    }

    /// <summary>One run on an input of zeros (a symbolic batch as 1); a model whose input is not a float tensor is left to the checks after.</summary>
    private static void FirstRun(InferenceSession session)
    {
        if (session.InputMetadata.Count != 1 || session.OutputNames.Count != 1) return;
        var (name, meta) = session.InputMetadata.First();
        // Only a fixed image size gives a run that says something (s2d's models have one; a 1x1 guess could fail on its own).
        if (!meta.IsTensor || meta.ElementType != typeof(float) || meta.Dimensions.Skip(1).Any(d => d <= 0)) return;
        long[] shape = [.. meta.Dimensions.Select(d => d > 0 ? (long)d : 1)];
        var zeros = new float[shape.Aggregate(1L, (a, d) => a * d)];
        using var input = OrtValue.CreateTensorValueFromMemory(zeros, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [name], [input], [session.OutputNames[0]]);
    }

    private static InferenceSession CpuSession(byte[] model, string source, int threads, bool memoryArena)
    {
        using var options = NewOptions(threads, memoryArena);
        try
        {
            return new InferenceSession(model, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxFormatException($"ONNX Runtime could not load {source}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Session settings; without the CPU memory arena each run frees its activations, so a server's memory goes back
    /// after a burst of large batches instead of staying at the largest batch's size.
    /// </summary>
    private static SessionOptions NewOptions(int threads, bool memoryArena)
    {
        var options = new SessionOptions { EnableCpuMemArena = memoryArena };
        if (threads > 0) options.IntraOpNumThreads = threads;
        return options;
    }

    private static byte[] ReadModel(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full)) throw new OnnxFormatException($"ONNX model file '{full}' does not exist");
        return File.ReadAllBytes(full);
    }
}
