using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Supernets.Nb201;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Networks;

/// <summary>A NAS-Bench-201 cell with fixed ops (xautodl InferCell): node i = Σ_{j&lt;i} op_{i&lt;-j}(node j); output node 3.</summary>
public sealed class Nb201Cell : nn.Module
{
    private readonly ModuleList<Module<Tensor, Tensor>> edges;

    public Nb201Cell(Nb201Arch arch, long channels) : base(nameof(Nb201Cell))
    {
        edges = ModuleList([.. arch.EdgeOps.Select(op => OpRegistry.CreateNb201(op, channels, channels, 1, OpConfig.Eval))]);
        RegisterComponents();
    }

    /// <summary>The op on each edge, in <see cref="Nb201Arch.EdgeKeys"/> order.</summary>
    public IReadOnlyList<Module<Tensor, Tensor>> Edges => [.. edges];

    public Tensor Forward(Tensor x)
    {
        var nodes = new List<Tensor> { x };
        for (int i = 1; i < Nb201Arch.Nodes; i++)
        {
            Tensor sum = edges[Nb201Arch.EdgeIndex(i, 0)].call(nodes[0]);
            for (int j = 1; j < i; j++)
            {
                using var y = edges[Nb201Arch.EdgeIndex(i, j)].call(nodes[j]);
                using var previous = sum;
                sum = SearchToDeploy.Core.Torch.Scalars.Add(previous, y); // not in place: an identity edge's output aliases its input
            }
            nodes.Add(sum);
        }
        for (int i = 1; i < nodes.Count - 1; i++) nodes[i].Dispose();
        return nodes[^1];
    }
}

/// <summary>
/// The NAS-Bench-201 network (xautodl TinyNetwork): stem conv 3x3 to C + BN, three stages of N cells at C, 2C and 4C
/// joined by residual reduction blocks, then BN + ReLU, global average pooling and a linear classifier. For 64-px
/// inputs (<see cref="NetworkKind.Nb201x64"/>) the stem convolution has stride 2, so the cells see CIFAR's 32/16/8 maps.
/// </summary>
public sealed class Nb201Network : EvalNetwork
{
    private readonly Sequential stem;
    private readonly ModuleList<Module> body;
    private readonly Sequential lastact;
    private readonly Linear classifier;

    public Nb201Network(Nb201Arch arch, long channels, int cellsPerStage, long classes, NetworkKind kind = NetworkKind.Nb201) : base(nameof(Nb201Network))
    {
        if (!IsNb201(kind)) throw new ArgumentException($"not a NAS-Bench-201 network kind: {kind}", nameof(kind));
        Kind = kind;
        if (cellsPerStage < 1) throw new InputException($"--layers {cellsPerStage}: a NAS-Bench-201 network needs at least 1 cell per stage");
        Architecture = Architecture.FromNb201(arch);
        Classes = classes; Channels = channels; CellsPerStage = cellsPerStage;
        stem = Sequential(new Conv(3, channels, 3, stride: kind == NetworkKind.Nb201x64 ? 2 : 1, padding: 1), BatchNorm2d(channels));
        var layers = new List<Module>();
        long c = channels;
        for (int stage = 0; stage < 3; stage++)
        {
            if (stage > 0) { layers.Add(new ResNetBasicBlock(c, 2 * c, OpConfig.Eval)); c *= 2; }
            for (int i = 0; i < cellsPerStage; i++) layers.Add(new Nb201Cell(arch, c));
        }
        body = ModuleList([.. layers]);
        lastact = Sequential(BatchNorm2d(c), ReLU());
        classifier = Linear(c, classes);
        RegisterComponents();
    }

    public override NetworkKind Kind { get; }
    public override Architecture Architecture { get; }
    public override long Classes { get; }
    public override int InputSize => NetworkConfig.DesignSize(Kind);
    public override bool HasAuxiliary => false;
    public long Channels { get; }
    public int CellsPerStage { get; }
    public Sequential Stem => stem;
    /// <summary>Cells (<see cref="Nb201Cell"/>) and reduction blocks (<see cref="ResNetBasicBlock"/>) in order.</summary>
    public IReadOnlyList<Module> Body => [.. body];
    public Sequential LastAct => lastact;
    public Linear Classifier => classifier;

    public override (Tensor Logits, Tensor? Auxiliary) ForwardWithAux(Tensor x)
    {
        var h = stem.call(x);
        foreach (var m in body)
        {
            var next = m switch
            {
                Nb201Cell cell => cell.Forward(h),
                Module<Tensor, Tensor> block => block.call(h),
                _ => throw new InvalidOperationException($"unexpected module {m.GetName()}"),
            };
            h.Dispose();
            h = next;
        }
        using (h)
        using (var a = lastact.call(h))
        using (var pooled = a.mean([2, 3]))
            return (classifier.call(pooled), null);
    }
}
