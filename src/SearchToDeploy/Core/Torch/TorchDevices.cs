using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Torch;

/// <summary>
/// Where search and training run (<c>--device</c>): <c>auto</c> (a CUDA GPU when TorchSharp can use one, else the CPU),
/// <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>; without an index the first GPU, or in a data-parallel job the one of the
/// rank's place on its machine (<see cref="DefaultIndex"/>). TorchSharp sees a GPU only in a build with the CUDA libtorch
/// (<c>-p:S2DTorch=cuda</c>) on a machine with an NVIDIA driver; asking for CUDA elsewhere is an input error, not a
/// silent fall back to the CPU.
/// </summary>
public static class TorchDevices
{
    public const string Names = "auto, cpu, cuda or cuda:N";

    /// <summary>Checks the spelling only (no CUDA probe): <paramref name="argument"/> names the option in the message.</summary>
    public static void Validate(string name, string argument = "--device") => Parse(name, argument);

    /// <summary>The device <paramref name="name"/> asks for, on this machine.</summary>
    public static Device Resolve(string name, string argument = "--device")
    {
        var (kind, index) = Parse(name, argument);
        if (kind == "cpu") return torch.CPU;
        bool cuda = torch.cuda.is_available();
        if (kind == "auto" && !cuda) return torch.CPU;
        if (!cuda)
            throw new InputException($"{argument} {name}: TorchSharp cannot use CUDA here (this build has the CPU libtorch, or no NVIDIA GPU and " +
                                     "driver are present); build with -p:S2DTorch=cuda on a GPU machine, or use --device cpu or auto");
        int count = torch.cuda.device_count();
        if (index >= count) throw new InputException($"{argument} {name}: this machine has {count} CUDA device(s) (cuda:0..cuda:{count - 1})");
        return new Device(DeviceType.CUDA, index >= 0 ? index : DefaultIndex(Distributed.NodeRanks.LocalRank, count));
    }

    /// <summary>
    /// The GPU of "cuda" or "auto" without an index: the first, or in a data-parallel job the one of this rank's place on
    /// its machine, so that N ranks on an N-GPU machine take one GPU each (more ranks than GPUs share them in turn).
    /// </summary>
    public static int DefaultIndex(int localRank, int devices) => devices <= 0 ? 0 : localRank % devices;

    /// <summary>Waits for <paramref name="device"/>'s queued kernels (a no-op on the CPU), so that a stopwatch measures work done, not launched.</summary>
    public static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA) torch.cuda.synchronize(device);
    }

    /// <summary>"cpu" or "cuda:N", for logs and run records.</summary>
    public static string Describe(Device device) => device.type == DeviceType.CUDA ? $"cuda:{Math.Max(device.index, 0)}" : "cpu";

    /// <summary>"on cpu (N threads)" or "on cuda:N", for the run log.</summary>
    public static string Where(Device device, string cpuThreads) =>
        device.type == DeviceType.CUDA ? $"on {Describe(device)}" : $"on cpu ({cpuThreads} threads)";

    private static (string Kind, int Index) Parse(string name, string argument)
    {
        string n = name.Trim().ToLowerInvariant();
        if (n is "auto" or "cpu") return (n, -1);
        if (n == "cuda") return (n, -1);
        if (n.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(n[5..], out int i) && i >= 0) return ("cuda", i);
        throw new InputException($"{argument} '{name}': expected {Names}");
    }
}
