using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Architectures;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>
/// A search supernet: a network over all candidate ops, mixed by architecture parameters (α, and β for edge
/// normalisation), which are registered parameters so checkpoints carry them. Weights and architecture parameters
/// are exposed separately, each for its own optimizer.
/// </summary>
public abstract class Supernet : nn.Module<Tensor, Tensor>
{
    protected Supernet(string name, SupernetConfig config) : base(name)
    {
        config.Validate();
        Config = config;
    }

    public SupernetConfig Config { get; }

    /// <summary>How α becomes the ops' mixing weights in a forward pass (a search strategy may replace the softmax).</summary>
    public ArchMixing ArchMixing { get; set; } = ArchMixing.Softmax;

    /// <summary>Drop-path probability for the edges' outputs during training (0 = off; <see cref="MixedOp.DropEdge"/>).</summary>
    public double DropPathProb
    {
        get => _dropPath;
        set
        {
            var edges = named_modules().Select(m => m.module).OfType<MixedOp>().ToList();
            if (value > 0 && edges.Count == 0)
                throw new InvalidOperationException("drop-path needs the edge-by-edge cells (SupernetConfig.Fused = false): the fused cells have no edge outputs to mask");
            _dropPath = value;
            foreach (var op in edges) op.DropPathProb = value;
        }
    }

    private double _dropPath;

    /// <summary>α per cell type, then β per cell type where edge normalisation is on (<see cref="CellParameters"/>' order).</summary>
    public IReadOnlyList<Parameter> ArchParameters
    {
        get
        {
            var cells = CellParameters.Values;
            return [.. cells.Select(c => c.Alpha), .. cells.Where(c => c.Beta is not null).Select(c => c.Beta!)];
        }
    }

    /// <summary>The parameters the weight optimizer trains: everything that requires a gradient except α and β.</summary>
    public IReadOnlyList<Parameter> WeightParameters
    {
        get
        {
            var arch = ArchParameters.ToHashSet(ReferenceEqualityComparer.Instance);
            return [.. parameters().Where(p => p.requires_grad && !arch.Contains(p))];
        }
    }

    /// <summary>Per cell type ("normal", "reduce"): softmax(α) per edge, and the node-normalised edge weights β̂ (PC methods).</summary>
    public abstract IReadOnlyDictionary<string, CellWeights> ArchWeights();

    /// <summary>The architecture the current parameters select.</summary>
    public abstract Architecture Derive();

    /// <summary>The input in the activations' type (<see cref="SupernetConfig.Precision"/>).</summary>
    protected Tensor ToActivations(Tensor x) => x.As(Config.Precision.Activations());

    /// <summary>Pooled features in the classifier's type (back to float32 from bfloat16), so logits and loss are in it.</summary>
    protected static Tensor ToClassifier(Tensor features, Linear classifier) => features.As(classifier.weight!.dtype);

    /// <summary>The edge weights a forward pass uses: the node-wise softmax of β, as <see cref="ArchMixing"/> passes it on.</summary>
    protected Tensor EdgeWeights(Tensor betas, IReadOnlyList<(int Start, int Count)> nodes)
    {
        using var normalised = NodeSoftmax(betas, nodes);
        return ArchMixing.EdgeWeights(betas, normalised);
    }

    /// <summary>
    /// Per cell type ("normal", "reduce"), its architecture parameters: α [edges, ops] and β [edges] where edge
    /// normalisation is on.
    /// </summary>
    public abstract IReadOnlyDictionary<string, (Parameter Alpha, Parameter? Beta)> CellParameters { get; }

    /// <summary>Node-wise softmax of β: each intermediate node's incoming edges sum to 1.</summary>
    protected static Tensor NodeSoftmax(Tensor betas, IReadOnlyList<(int Start, int Count)> nodes)
    {
        var parts = nodes.Select(n => { using var slice = betas.narrow(0, n.Start, n.Count); return slice.softmax(0); }).ToArray();
        var result = torch.cat(parts, 0);
        foreach (var p in parts) p.Dispose();
        return result;
    }

    protected static double[] ToVector(Tensor weights)
    {
        using var cpu = weights.detach().cpu().to(ScalarType.Float64);
        return cpu.data<double>().ToArray();
    }

    protected static double[][] ToRows(Tensor weights)
    {
        using var cpu = weights.detach().cpu().to(ScalarType.Float64);
        long rows = cpu.shape[0], cols = cpu.shape[1];
        var flat = cpu.data<double>().ToArray();
        return [.. Enumerable.Range(0, (int)rows).Select(r => flat.AsSpan((int)(r * cols), (int)cols).ToArray())];
    }

    protected static Parameter NewArchParameter(params long[] shape)
    {
        using var scale = 1e-3.ToScalar();
        using var init = torch.randn(shape) * scale;
        return new Parameter(init.detach().clone(), requires_grad: true);
    }
}
