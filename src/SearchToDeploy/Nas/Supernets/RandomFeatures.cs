using SearchToDeploy.Nas.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>
/// Random features (RF-DARTS): every convolution keeps its seeded random initialisation and never trains; BN
/// affine parameters (switched on by <see cref="SupernetConfig.Affine"/>) and the architecture parameters train.
/// The classifier is frozen too unless <paramref name="trainClassifier"/>.
/// </summary>
public static class RandomFeatures
{
    public static void Apply(Supernet net, FrozenInit init, bool trainClassifier)
    {
        using var _ = torch.no_grad();
        foreach (var (_, module) in net.named_modules())
        {
            switch (module)
            {
                case IConvolutionWeights conv:
                    foreach (var w in conv.ConvolutionWeights) { Reinitialise(w, init); Freeze(w); }
                    foreach (var b in conv.ConvolutionBiases) Freeze(b);
                    break;
                case TorchSharp.Modules.Conv2d:
                    throw new InvalidOperationException("supernets use Ops.Conv (see its remarks), not Conv2d");
                case Linear linear when !trainClassifier:
                    Freeze(linear.weight);
                    Freeze(linear.bias);
                    break;
            }
        }
        // Every convolution filter bank is 4-D: none may be left trainable.
        if (net.named_parameters().FirstOrDefault(p => p.parameter.dim() == 4 && p.parameter.requires_grad) is { name: { } left })
            throw new InvalidOperationException($"random features: {left} is a convolution weight that no IConvolutionWeights module froze");
    }

    private static void Freeze(Parameter? p)
    {
        if (p is not null) p.requires_grad = false;
    }

    private static void Reinitialise(Tensor weight, FrozenInit init)
    {
        switch (init)
        {
            case FrozenInit.Default: break; // torch's own Kaiming-uniform(a = sqrt(5)) from construction
            case FrozenInit.KaimingNormal: init_kaiming(weight, normal: true); break;
            case FrozenInit.KaimingUniform: init_kaiming(weight, normal: false); break;
        }
    }

    private static void init_kaiming(Tensor w, bool normal)
    {
        if (normal) nn.init.kaiming_normal_(w, 0, nn.init.FanInOut.FanIn, nn.init.NonlinearityType.ReLU);
        else nn.init.kaiming_uniform_(w, 0, nn.init.FanInOut.FanIn, nn.init.NonlinearityType.ReLU);
    }

    /// <summary>How many parameters (elements) of each kind a supernet has: trainable weights, frozen, architecture.</summary>
    public static (long Trainable, long Frozen, long Architecture) Count(Supernet net)
    {
        var arch = net.ArchParameters.ToHashSet(ReferenceEqualityComparer.Instance);
        long t = 0, f = 0, a = 0;
        foreach (var p in net.parameters())
        {
            if (arch.Contains(p)) a += p.numel();
            else if (p.requires_grad) t += p.numel();
            else f += p.numel();
        }
        return (t, f, a);
    }
}
