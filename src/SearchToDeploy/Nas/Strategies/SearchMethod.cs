
namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// The four search methods. PC methods use partial channels (K) and edge normalisation; RF methods keep every
/// convolution at its random initialisation and train only BN affine parameters (and the architecture).
/// </summary>
public enum SearchMethod { Darts, PcDarts, RfDarts, RfPcDarts }
