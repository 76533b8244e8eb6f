using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Ops;

/// <summary>
/// RobustDARTS S4's noise op: ignores its input's values and returns N(0, 1) noise of the output's shape
/// (subsampled by the stride). Drawn from torch's global generator, which the search seeds every epoch; in a
/// data-parallel step each image gets the noise one process would draw for it (<see cref="BatchShare"/>).
/// </summary>
public sealed class NoiseOp(long stride) : Module<Tensor, Tensor>(nameof(NoiseOp))
{
    public long Stride { get; } = stride;

    public override Tensor forward(Tensor x)
    {
        long h = (x.shape[2] + Stride - 1) / Stride, w = (x.shape[3] + Stride - 1) / Stride;
        return BatchShare.Draw(x.shape[0], rows => torch.randn([rows, x.shape[1], h, w], dtype: x.dtype, device: x.device));
    }
}
