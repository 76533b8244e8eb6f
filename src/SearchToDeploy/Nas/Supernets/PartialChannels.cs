using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Supernets;

/// <summary>PC-DARTS partial channels: joining a node's op part and bypass part, then the channel shuffle.</summary>
public static class PartialChannels
{
    /// <summary>channel_shuffle(cat(opPart, bypass), K): view as [N, K, C/K, H, W], swap dims 1 and 2, flatten.</summary>
    public static Tensor Merge(Tensor opPart, Tensor bypass, int k)
    {
        using var cat = torch.cat([opPart, bypass], 1);
        return Shuffle(cat, k);
    }

    public static Tensor Shuffle(Tensor x, int groups)
    {
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        using var v = x.view(n, groups, c / groups, h, w);
        using var t = v.transpose(1, 2);
        using var cont = t.contiguous();
        return cont.view(n, c, h, w);
    }
}
