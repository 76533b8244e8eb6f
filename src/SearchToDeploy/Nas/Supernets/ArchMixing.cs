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

    /// <summary>
    /// The edge weights of edge normalisation (PC methods) from β and its node-wise softmax, which the result may be
    /// (the default) or replace; the caller disposes the result, this method disposes nothing.
    /// </summary>
    public virtual Tensor EdgeWeights(Tensor beta, Tensor nodeNormalised) => nodeNormalised.alias();

    /// <summary>
    /// True when an op whose mixing weight is exactly 0 on every edge that carries it may be left out of the forward
    /// pass: its term is zero and nothing needs its gradient (perturbation selection's masks; not a training mixing,
    /// whose α need every op's output, and whose weights would have to be read back on every step).
    /// </summary>
    public virtual bool SkipsZeroWeightOps => false;

    private sealed class SoftmaxMixing : ArchMixing
    {
        public override Tensor Weights(Tensor alpha, bool training) => alpha.softmax(-1);
    }
}
