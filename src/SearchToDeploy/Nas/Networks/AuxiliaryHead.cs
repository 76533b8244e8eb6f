using SearchToDeploy.Nas.Ops;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Networks;

/// <summary>
/// DARTS's auxiliary classifier: ReLU -> 5x5 average pool (no padding) -> conv 1x1 to 128 -> BN -> ReLU -> conv 2x2
/// to 768 -> [BN] -> ReLU -> linear. CIFAR: pool stride 3 on an 8x8 map, with the second BN. ImageNet: pool stride 2
/// on a 7x7 map, without the second BN (a typo in the published code, kept so results compare).
/// </summary>
public sealed class AuxiliaryHead : Module<Tensor, Tensor>
{
    private readonly Sequential features;
    private readonly Linear classifier;
    private readonly long _poolStride;

    public AuxiliaryHead(long channels, long classes, bool imagenet) : base(nameof(AuxiliaryHead))
    {
        _poolStride = imagenet ? 2 : 3;
        features = imagenet
            ? Sequential(new Conv(channels, 128, 1), BatchNorm2d(128), ReLU(), new Conv(128, 768, 2), ReLU())
            : Sequential(new Conv(channels, 128, 1), BatchNorm2d(128), ReLU(), new Conv(128, 768, 2), BatchNorm2d(768), ReLU());
        classifier = Linear(768, classes);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var r = functional.relu(x);
        using var p = functional.avg_pool2d(r, 5, _poolStride, 0, count_include_pad: false);
        using var f = features.call(p);
        using var flat = f.flatten(1);
        return classifier.call(flat);
    }
}
