using TorchSharp;

namespace SearchToDeploy.Core.Torch;

/// <summary>
/// Seeds torch's generators: the CPU's, and every CUDA device's where CUDA is in use. TorchSharp's own manual_seed
/// seeds the CPU generator alone, which would leave drop-path masks, S4's noise and GDAS's sampling on a GPU unseeded:
/// not reproducible, and different on each rank of a data-parallel run.
/// </summary>
public static class TorchSeed
{
    public static void Set(long seed)
    {
        torch.random.manual_seed(seed);
        if (torch.cuda.is_available()) torch.cuda.manual_seed_all(seed);
    }
}
