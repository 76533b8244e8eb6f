using SearchToDeploy.Nas.Ops;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Networks;

/// <summary>
/// DARTS's auxiliary classifier: ReLU -> 5x5 average pool (no padding) -> conv 1x1 to 128 -> BN -> ReLU -> conv 2x2
/// to 768 -> [BN] -> ReLU -> linear. CIFAR: pool stride 3 on an 8x8 map, with the second BN. ImageNet: pool stride 2
/// on a 7x7 map, without the second BN (a typo in the published code, kept so results compare). Both pools leave a
/// 2x2 map for the 2x2 convolution; other map sizes (the mobile network at other resolutions) are averaged to 2x2 instead.
/// </summary>
public sealed class AuxiliaryHead : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Linear classifier;
    private readonly long _poolStride;
    private readonly int _afterCell;

    public AuxiliaryHead(long channels, long classes, bool imagenet, int afterCell) : base(nameof(AuxiliaryHead))
    {
        _poolStride = imagenet ? 2 : 3;
        _afterCell = afterCell;
        features = imagenet
            ? Sequential(new Conv(channels, 128, 1), BatchNorm2d(128), ReLU(), new Conv(128, 768, 2), ReLU())
            : Sequential(new Conv(channels, 128, 1), BatchNorm2d(128), ReLU(), new Conv(128, 768, 2), BatchNorm2d(768), ReLU());
        classifier = Linear(768, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long h = x.shape[2], w = x.shape[3];
        if (h < 2 || w < 2)
            throw new InputException($"the auxiliary head after cell {_afterCell} needs a map of at least 2x2 and gets {h}x{w}: " +
                                     "raise --image-size, use a network whose stem keeps larger maps (imagenet-64 for 64-px images), or pass --aux-weight 0");
        using var r = functional.relu(x);
        using var p = PublishedPoolFits(h) && PublishedPoolFits(w) ? functional.avg_pool2d(r, 5, _poolStride, 0, count_include_pad: false) : functional.adaptive_avg_pool2d(r, [2, 2]);
        using var f = features.call(p);
        using var flat = f.flatten(1);
        return classifier.call(flat);
    }

    /// <summary>Whether the published 5x5 pool leaves exactly the 2x2 map the 2x2 convolution needs.</summary>
    private bool PublishedPoolFits(long size) => size >= 5 && (size - 5) / _poolStride + 1 == 2;
}
