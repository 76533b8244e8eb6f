using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Supernets.Darts;
using SearchToDeploy.Nas.Supernets.Nb201;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>
/// The shape of a search supernet and its batch norms.
/// </summary>
/// <param name="Layers">DARTS: number of cells (8). NAS-Bench-201: cells per stage (5).</param>
/// <param name="Steps">Intermediate nodes of a DARTS-style cell (4); NAS-Bench-201 cells always have 4 nodes.</param>
/// <param name="PartialK">Partial-channel factor K (1 = all channels go through the ops).</param>
/// <param name="EdgeNormalization">PC-DARTS edge normalisation: per-edge β, softmaxed over each node's incoming edges.</param>
/// <param name="Affine">Affine BN inside the cells (off in DARTS/PC-DARTS search, on for random features).</param>
/// <param name="Fused">Compute cells node by node (<see cref="FusedNb201Cell"/>) or state by state (<see cref="FusedDartsCell"/>,
/// for spaces without S4's noise op) rather than edge by edge (<see cref="Nb201SearchCell"/>, <see cref="DartsSearchCell"/>,
/// the references); same function, fewer kernels.</param>
/// <param name="DeriveWithoutNone">NAS-Bench-201: derive each edge's op from the ops other than none.</param>
/// <param name="Precision">The activations' number format (<see cref="SearchToDeploy.Core.Torch.Precision"/>).</param>
public sealed record SupernetConfig(
    SearchSpace Space,
    int Classes,
    int Channels = 16,
    int Layers = 8,
    int Steps = 4,
    int StemMultiplier = 3,
    int PartialK = 1,
    bool EdgeNormalization = false,
    bool Affine = false,
    bool TrackRunningStats = true,
    double BnMomentum = 0.1,
    bool Fused = true,
    bool DeriveWithoutNone = false,
    Precision Precision = Precision.Float32)
{
    public void Validate()
    {
        if (Channels <= 0 || Layers <= 0 || Steps <= 0 || Classes <= 1)
            throw new InputException($"supernet: channels {Channels}, layers {Layers}, steps {Steps}, classes {Classes}: expected positive sizes and at least 2 classes");
        if (PartialK < 1 || Channels % PartialK != 0)
            throw new InputException($"--partial-k {PartialK}: must divide the channel count {Channels}");
        Space.Kind.CheckShape(Space, Steps, Layers);
    }
}
