
namespace SearchToDeploy.Nas.Supernets;

/// <summary>How the frozen convolution weights of a random-feature supernet are drawn.</summary>
public enum FrozenInit
{
    /// <summary>PyTorch's default for conv and linear layers: Kaiming-uniform with a = sqrt(5).</summary>
    Default,
    /// <summary>He et al. normal, fan-in, ReLU gain (as in Frankle et al., "Training BatchNorm and Only BatchNorm").</summary>
    KaimingNormal,
    /// <summary>He et al. uniform, fan-in, ReLU gain.</summary>
    KaimingUniform,
}
