using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Networks;

/// <summary>
/// The DARTS evaluation networks (quark0/darts model.py). CIFAR (NetworkCIFAR): stem conv 3x3 to 3C + BN, then
/// <c>layers</c> cells with reductions at layers/3 and 2·layers/3 (C doubles), the auxiliary head after cell
/// 2·layers/3. ImageNet (NetworkImageNet, the mobile setting): stem0 = conv 3x3 s2 to C/2, BN, ReLU, conv 3x3 s2 to C,
/// BN; stem1 = ReLU, conv 3x3 s2, BN (224 -> 28); the first cell sees a reduced input. ImageNet at 64 px: the same
/// stems with only the first convolution strided (64 -> 32), so the cells see CIFAR's 32/16/8 maps where the mobile
/// stems would leave them 8/4/2, and the CIFAR auxiliary head fits their 8x8 map. All end with global average pooling
/// and a linear classifier (ImageNet's AvgPool2d(7) is global pooling at 224).
/// </summary>
public sealed class DartsNetwork : RetrainNetwork
{
    private readonly Sequential stem0;
    private readonly Sequential? stem1;
    private readonly ModuleList<DartsCell> cells;
    private readonly AuxiliaryHead? auxiliary;
    private readonly Linear classifier;
    private readonly int _auxAfter;

    public DartsNetwork(DartsGenotype genotype, NetworkKind kind, long channels, int layers, long classes, bool auxiliary, string space = "darts")
        : base(nameof(DartsNetwork))
    {
        if (IsNb201(kind)) throw new ArgumentException("a DARTS-space cell needs --network cifar, imagenet or imagenet-64");
        if (layers < 3) throw new InputException($"--layers {layers}: a DARTS network needs at least 3 cells (two of them reduction cells)");
        genotype.Validate();
        Kind = kind; Classes = classes; Layers = layers; Channels = channels;
        Architecture = Architecture.FromCell(space, genotype);
        long cPrevPrev, cPrev, c = channels;
        bool reductionPrev;
        if (kind == NetworkKind.Cifar)
        {
            long stem = 3 * channels;
            stem0 = Sequential(new Conv(3, stem, 3, padding: 1), BatchNorm2d(stem));
            cPrevPrev = cPrev = stem;
            reductionPrev = false;
        }
        else
        {
            if (channels % 2 != 0) throw new InputException($"--channels {channels}: the ImageNet stem needs an even channel count");
            int late = kind == NetworkKind.ImageNet ? 2 : 1; // the 64-px stems reduce once, the mobile ones three times
            stem0 = Sequential(new Conv(3, channels / 2, 3, stride: 2, padding: 1), BatchNorm2d(channels / 2), ReLU(),
                               new Conv(channels / 2, channels, 3, stride: late, padding: 1), BatchNorm2d(channels));
            stem1 = Sequential(ReLU(), new Conv(channels, channels, 3, stride: late, padding: 1), BatchNorm2d(channels));
            cPrevPrev = cPrev = channels;
            reductionPrev = kind == NetworkKind.ImageNet;
        }
        var list = new List<DartsCell>();
        long auxChannels = 0;
        _auxAfter = 2 * layers / 3;
        for (int i = 0; i < layers; i++)
        {
            bool reduction = i == layers / 3 || i == 2 * layers / 3;
            if (reduction) c *= 2;
            var cell = new DartsCell(genotype, cPrevPrev, cPrev, c, reduction, reductionPrev);
            list.Add(cell);
            reductionPrev = reduction;
            cPrevPrev = cPrev;
            cPrev = cell.OutChannels;
            if (i == _auxAfter) auxChannels = cPrev;
        }
        cells = ModuleList([.. list]);
        if (auxiliary) this.auxiliary = new AuxiliaryHead(auxChannels, classes, kind == NetworkKind.ImageNet, _auxAfter);
        classifier = Linear(cPrev, classes);
        RegisterComponents();
    }

    public override NetworkKind Kind { get; }
    public override Architecture Architecture { get; }
    public override long Classes { get; }
    public override int InputSize => NetworkConfig.DesignSize(Kind);
    public override bool HasAuxiliary => auxiliary is not null;
    public int Layers { get; }
    public long Channels { get; }
    public Sequential Stem0 => stem0;
    public Sequential? Stem1 => stem1;
    public IReadOnlyList<DartsCell> Cells => [.. cells];
    public Linear Classifier => classifier;

    public override (Tensor Logits, Tensor? Auxiliary) ForwardWithAux(Tensor x)
    {
        Tensor s0 = stem0.call(x);
        Tensor s1 = stem1 is null ? s0.alias() : stem1.call(s0);
        Tensor? aux = null;
        for (int i = 0; i < cells.Count; i++)
        {
            var next = cells[i].Forward(s0, s1, DropPathProb);
            s0.Dispose();
            s0 = s1; s1 = next;
            if (i == _auxAfter && auxiliary is not null && training) aux = auxiliary.call(s1);
        }
        s0.Dispose();
        using (s1)
        using (var pooled = s1.mean([2, 3]))
            return (classifier.call(pooled), aux);
    }
}
