namespace SearchToDeploy.Nas.Strategies;

/// <summary>
/// How a strategy trains the architecture parameters: Adam's learning rate, betas and weight decay (DARTS: 3e-4,
/// (0.5, 0.999), 1e-3), and the second-order step's finite-difference scale (DARTS: 0.01 over the gradient norm).
/// </summary>
public sealed record ArchitectureSettings(double LearningRate, double Beta1, double Beta2, double WeightDecay, double UnrolledEpsilon = 0.01);
