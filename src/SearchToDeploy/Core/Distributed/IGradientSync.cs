using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Distributed;

/// <summary>
/// Where data-parallel runs plug in: after each backward pass and before clipping and the optimizer step, the
/// gradients of the parameters that train are averaged over the processes (ranks) of a run, so every rank takes the
/// same step; evaluation counts are summed; only the main rank writes logs, checkpoints and artifacts. In one
/// process it does nothing (<see cref="SingleProcess"/>); over MPI it is <see cref="MpiGradientSync"/>.
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

    /// <summary>Replaces each tensor by its mean over the processes (BatchNorm running statistics before evaluation and checkpoints).</summary>
    void AverageValues(IReadOnlyList<Tensor> tensors) { }

    /// <summary>Each value becomes its sum over the processes (evaluation counts and losses).</summary>
    void Sum(Span<double> values) { }

    /// <summary>Fails on every rank, naming <paramref name="what"/>, unless the tensors are bit-identical on all ranks.</summary>
    void CheckIdentical(IReadOnlyList<Tensor> tensors, string what) { }

    /// <summary>Waits until every process gets here (after rank 0 prepared the run folder).</summary>
    void Barrier() { }

    /// <summary>What the exchange cost so far, for the log (null in one process).</summary>
    string? Report(int steps, double stepSeconds) => null;

    /// <summary>One process: nothing to exchange.</summary>
    public static readonly IGradientSync SingleProcess = new Single();

    private sealed class Single : IGradientSync
    {
        public int Rank => 0;
        public int Size => 1;
        public void Average(IReadOnlyList<Parameter> parameters) { }
    }
}
