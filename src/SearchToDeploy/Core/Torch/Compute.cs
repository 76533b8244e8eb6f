using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Torch;

/// <summary>
/// Where torch runs and on how many CPU threads: decided once at the edge (a command, the pipeline, a benchmark, a
/// test) and handed to the runners, which apply it instead of reading device and thread settings themselves.
/// </summary>
public sealed record Compute(Device Device, int Threads)
{
    /// <summary>The device <paramref name="device"/> names on this machine (<see cref="TorchDevices.Resolve"/>) and
    /// <paramref name="threads"/> CPU threads (0: all cores, shared out among the data-parallel ranks on this machine).</summary>
    public static Compute Resolve(string device, int threads) =>
        new(TorchDevices.Resolve(device), threads > 0 ? threads : Distributed.NodeRanks.DefaultThreads);

    public bool IsCpu => Device.type == DeviceType.CPU;

    /// <summary>Sets torch's intra-op thread count to <see cref="Threads"/> (the runners call it when they start).</summary>
    public void ApplyThreads() => set_num_threads(Threads);

    /// <summary>"cpu" or "cuda:N".</summary>
    public string DeviceName => TorchDevices.Describe(Device);

    public override string ToString() => TorchDevices.Where(Device, Threads.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
