using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>
/// How the architecture parameters α of a cell type become the weights that mix each edge's candidate ops in a
/// supernet's forward pass: the softmax (DARTS and its variants), or what a search strategy puts in its place (a
/// Gumbel-softmax sample for GDAS). Derivation and logging always read softmax(α) (<see cref="Supernet.ArchWeights"/>).
/// </summary>
public abstract class ArchMixing
{
    /// <summary>softmax(α) per edge: DARTS's continuous relaxation.</summary>
    public static readonly ArchMixing Softmax = new SoftmaxMixing();

    /// <summary>The mixing weights [edges, ops] from α [edges, ops]; <paramref name="training"/>: the supernet is in training mode.</summary>
    public abstract Tensor Weights(Tensor alpha, bool training);

    private sealed class SoftmaxMixing : ArchMixing
    {
        public override Tensor Weights(Tensor alpha, bool training) => alpha.softmax(-1);
    }
}
