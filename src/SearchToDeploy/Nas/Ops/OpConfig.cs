namespace SearchToDeploy.Nas.Ops;

/// <summary>
/// How an op builds its batch norms and convolutions. DARTS search ops use affine=False; RF-DARTS switches affine on
/// (the BN affine parameters are what trains). NAS-Bench-201 convolutions carry a bias exactly when BN is not affine.
/// </summary>
public sealed record OpConfig(bool Affine, bool TrackRunningStats = true, double BnMomentum = 0.1)
{
    public static readonly OpConfig Eval = new(Affine: true);
}
