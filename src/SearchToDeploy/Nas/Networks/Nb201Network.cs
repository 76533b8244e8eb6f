using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Networks;

/// <summary>
/// The NAS-Bench-201 network (xautodl TinyNetwork): stem conv 3x3 to C + BN, three stages of N cells at C, 2C and 4C
/// joined by residual reduction blocks, then BN + ReLU, global average pooling and a linear classifier. For 64-px
/// inputs (<see cref="NetworkKind.Nb201x64"/>) the stem convolution has stride 2, so the cells see CIFAR's 32/16/8 maps.
/// </summary>
public sealed class Nb201Network : RetrainNetwork
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
