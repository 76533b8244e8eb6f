using System.Buffers.Binary;
using Google.Protobuf;
using SearchToDeploy.Deploy.Onnx.Proto;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Deploy.Onnx;

/// <summary>
/// Builds an ONNX graph (opset <see cref="Opset"/>, IR version <see cref="IrVersion"/>) node by node: every helper
/// returns the name of the value it produces, and names are unique within the graph. Weights become float32
/// initializers stored little-endian in <c>raw_data</c>. The graph input is a float tensor [N, C, H, W] whose batch
/// dimension is the symbol "N" (any batch size runs).
/// </summary>
public sealed class OnnxGraphBuilder
{
    public const int Opset = 17;
    public const long IrVersion = (long)Proto.Version.IrVersion2021730;
    public const string DefaultInputName = "input";
    public const string DefaultOutputName = "logits";
    public const string BatchDimension = "N";

    private readonly GraphProto _graph;
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _counters = new(StringComparer.Ordinal);

    public OnnxGraphBuilder(string graphName = "SearchToDeploy")
    {
        _graph = new GraphProto { Name = graphName };
    }

    /// <summary>The graph built so far (nodes in topological order, as added).</summary>
    public GraphProto Graph => _graph;

    /// <summary>A value name not used yet in this graph, derived from <paramref name="hint"/> ("conv", "conv_1", ...).</summary>
    public string UniqueName(string hint)
    {
        if (string.IsNullOrWhiteSpace(hint)) hint = "v";
        if (_names.Add(hint)) return hint;
        _counters.TryGetValue(hint, out int n);
        string name;
        do name = $"{hint}_{++n}"; while (!_names.Add(name));
        _counters[hint] = n;
        return name;
    }

    // ---- graph inputs and outputs ----

    /// <summary>Declares the float input [N, channels, height, width] (N dynamic) and returns its name.</summary>
    public string AddInput(long channels, long height, long width, string name = DefaultInputName)
    {
        ReserveExact(name);
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = BatchDimension });
        foreach (long d in new[] { channels, height, width })
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        _graph.Input.Add(FloatValueInfo(name, shape));
        return name;
    }

    /// <summary>
    /// Declares <paramref name="value"/> as a graph output named <paramref name="name"/> (an Identity node renames it
    /// when the names differ). <paramref name="shape"/>: dims with null for a dynamic one (the first becomes "N");
    /// omitted, the output's rank and shape are left unspecified.
    /// </summary>
    public string AddOutput(string value, string name = DefaultOutputName, long?[]? shape = null)
    {
        if (value != name)
        {
            ReserveExact(name);
            AddNode("Identity", [value], [name]);
        }
        TensorShapeProto? shapeProto = null;
        if (shape is not null)
        {
            shapeProto = new TensorShapeProto();
            for (int i = 0; i < shape.Length; i++)
                shapeProto.Dim.Add(shape[i] is long d
                    ? new TensorShapeProto.Types.Dimension { DimValue = d }
                    : new TensorShapeProto.Types.Dimension { DimParam = i == 0 ? BatchDimension : $"d{i}" });
        }
        _graph.Output.Add(FloatValueInfo(name, shapeProto));
        return name;
    }

    // ---- initializers ----

    /// <summary>A float32 initializer holding a copy of <paramref name="tensor"/> (any dtype/device; converted).</summary>
    public string Initializer(Tensor tensor, string hint)
    {
        using var scope = torch.NewDisposeScope();
        var t = tensor.detach().to(ScalarType.Float32, torch.CPU).contiguous();
        return Initializer(t.data<float>().ToArray(), t.shape, hint);
    }

    /// <summary>A float32 initializer with the given row-major values and dims.</summary>
    public string Initializer(float[] values, long[] dims, string hint)
    {
        CheckCount(values.Length, dims, hint);
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
        return AddInitializer(hint, TensorProto.Types.DataType.Float, dims, bytes);
    }

    /// <summary>A 1-D int64 initializer (Slice starts/ends/axes/steps, shapes).</summary>
    public string Int64Initializer(long[] values, string hint)
    {
        var bytes = new byte[values.Length * sizeof(long)];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), values[i]);
        return AddInitializer(hint, TensorProto.Types.DataType.Int64, [values.Length], bytes);
    }

    // ---- nodes ----

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string opType, IReadOnlyList<string> inputs, string hint, params AttributeProto[] attributes) =>
        AddNode(opType, inputs, [UniqueName(hint)], attributes)[0];

    /// <summary>Adds a node whose outputs are named by the caller (names must be unique: see <see cref="UniqueName"/>).</summary>
    public IReadOnlyList<string> AddNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = UniqueNodeName(opType) };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return outputs;
    }

    /// <summary>
    /// 2-D convolution with the weight [out, in/groups, k, k] (and optional bias [out]) stored as initializers;
    /// symmetric padding, square stride and dilation (PyTorch's conv2d with scalar arguments).
    /// </summary>
    public string Conv(string x, Tensor weight, Tensor? bias, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, string hint = "conv")
    {
        if (weight.dim() != 4) throw new ArgumentException($"conv weight must be [out, in/groups, kh, kw], got [{string.Join(", ", weight.shape)}]");
        string w = Initializer(weight, hint + "_w");
        var inputs = new List<string> { x, w };
        if (bias is not null) inputs.Add(Initializer(bias, hint + "_b"));
        return Node("Conv", inputs, hint,
            Ints("kernel_shape", weight.shape[2], weight.shape[3]),
            Ints("strides", stride, stride),
            Ints("pads", padding, padding, padding, padding),
            Ints("dilations", dilation, dilation),
            Int("group", groups));
    }

    /// <summary>Inference-mode BatchNormalization: y = (x - mean) / sqrt(var + eps) * scale + bias, per channel.</summary>
    public string BatchNormalization(string x, Tensor scale, Tensor bias, Tensor mean, Tensor variance, double epsilon, string hint = "bn") =>
        Node("BatchNormalization",
            [x, Initializer(scale, hint + "_scale"), Initializer(bias, hint + "_bias"), Initializer(mean, hint + "_mean"), Initializer(variance, hint + "_var")],
            hint, Float("epsilon", (float)epsilon));

    public string Relu(string x, string hint = "relu") => Node("Relu", [x], hint);

    public string MaxPool(string x, long kernel, long stride, long padding, string hint = "maxpool") =>
        Node("MaxPool", [x], hint,
            Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", padding, padding, padding, padding));

    /// <summary>Average pooling; <paramref name="countIncludePad"/> false averages over the valid taps only.</summary>
    public string AveragePool(string x, long kernel, long stride, long padding, bool countIncludePad = false, string hint = "avgpool") =>
        Node("AveragePool", [x], hint,
            Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", padding, padding, padding, padding),
            Int("count_include_pad", countIncludePad ? 1 : 0));

    /// <summary>Slice with starts/ends/axes/steps as int64 initializers (use <see cref="long.MaxValue"/> for "to the end").</summary>
    public string Slice(string x, long[] starts, long[] ends, long[] axes, long[] steps, string hint = "slice")
    {
        if (starts.Length != ends.Length || starts.Length != axes.Length || starts.Length != steps.Length)
            throw new ArgumentException("Slice needs starts, ends, axes and steps of the same length");
        return Node("Slice",
            [x, Int64Initializer(starts, hint + "_starts"), Int64Initializer(ends, hint + "_ends"),
             Int64Initializer(axes, hint + "_axes"), Int64Initializer(steps, hint + "_steps")],
            hint);
    }

    public string Concat(IReadOnlyList<string> inputs, long axis, string hint = "concat") => Node("Concat", inputs, hint, Int("axis", axis));

    public string Add(string a, string b, string hint = "add") => Node("Add", [a, b], hint);

    public string GlobalAveragePool(string x, string hint = "gap") => Node("GlobalAveragePool", [x], hint);

    public string Flatten(string x, long axis = 1, string hint = "flatten") => Node("Flatten", [x], hint, Int("axis", axis));

    /// <summary>y = x · weightᵀ + bias (PyTorch Linear: weight [out, in], bias [out]).</summary>
    public string Gemm(string x, Tensor weight, Tensor? bias, string hint = "gemm")
    {
        var inputs = new List<string> { x, Initializer(weight, hint + "_w") };
        if (bias is not null) inputs.Add(Initializer(bias, hint + "_b"));
        return Node("Gemm", inputs, hint, Float("alpha", 1f), Float("beta", 1f), Int("transB", 1));
    }

    /// <summary>Float zeros of the runtime shape of <paramref name="x"/> (Shape -> ConstantOfShape; exact even where x is not finite).</summary>
    public string ZerosLike(string x, string hint = "zeros")
    {
        string shape = Node("Shape", [x], hint + "_shape");
        var zero = new TensorProto { DataType = (int)TensorProto.Types.DataType.Float };
        zero.Dims.Add(1);
        zero.FloatData.Add(0f);
        return Node("ConstantOfShape", [shape], hint, new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = zero });
    }

    // ---- attributes ----

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    // ---- internals ----

    private string AddInitializer(string hint, TensorProto.Types.DataType type, long[] dims, byte[] raw)
    {
        var t = new TensorProto { Name = UniqueName(hint), DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        t.Dims.AddRange(dims);
        _graph.Initializer.Add(t);
        return t.Name;
    }

    private void ReserveExact(string name)
    {
        if (!_names.Add(name)) throw new ArgumentException($"the value name '{name}' is already used in this graph");
    }

    private string UniqueNodeName(string opType)
    {
        _counters.TryGetValue("#node:" + opType, out int n);
        _counters["#node:" + opType] = ++n;
        return $"{opType}_{n}";
    }

    private static void CheckCount(int count, long[] dims, string hint)
    {
        long expected = 1;
        foreach (long d in dims) expected *= d;
        if (expected != count) throw new ArgumentException($"tensor '{hint}': {count} values do not fill dims [{string.Join(", ", dims)}]");
    }

    private static ValueInfoProto FloatValueInfo(string name, TensorShapeProto? shape)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float };
        if (shape is not null) tensorType.Shape = shape;
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
