using TorchSharp.Modules;

namespace SearchToDeploy.Core.Optim;

/// <summary>
/// Where data-parallel training plugs in: after each backward pass and before clipping and the optimizer step, the
/// gradients of the parameters that train are averaged over the processes of a run, so every process takes the same
/// step. Only the main process writes logs, checkpoints and artifacts. In one process it does nothing
/// (<see cref="SingleProcess"/>).
/// </summary>
public interface IGradientSync
{
    /// <summary>This process's rank and the number of processes.</summary>
    int Rank { get; }
    int Size { get; }

    /// <summary>Whether this process writes the run's files (rank 0).</summary>
    bool IsMain => Rank == 0;

    /// <summary>Replaces each parameter's gradient by its mean over the processes (parameters without a gradient are skipped alike everywhere).</summary>
    void Average(IReadOnlyList<Parameter> parameters);

    /// <summary>The sum of a value over the processes (evaluation counts).</summary>
    double Sum(double value);

    /// <summary>One process: nothing to average.</summary>
    public static readonly IGradientSync SingleProcess = new Single();

    private sealed class Single : IGradientSync
    {
        public int Rank => 0;
        public int Size => 1;
        public void Average(IReadOnlyList<Parameter> parameters) { }
        public double Sum(double value) => value;
    }
}
