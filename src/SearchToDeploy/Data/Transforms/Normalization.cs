namespace SearchToDeploy.Data.Transforms;

/// <summary>Per-channel mean and standard deviation (of pixel values scaled to [0, 1]).</summary>
public sealed record Normalization(float[] Mean, float[] Std)
{
    /// <summary>CIFAR-10, as in DARTS.</summary>
    public static readonly Normalization Cifar10 = new([0.49139968f, 0.48215827f, 0.44653124f], [0.24703233f, 0.24348505f, 0.26158768f]);
    /// <summary>CIFAR-100, as in DARTS / RobustDARTS.</summary>
    public static readonly Normalization Cifar100 = new([0.5071f, 0.4865f, 0.4409f], [0.2673f, 0.2564f, 0.2762f]);
    /// <summary>SVHN, as in RobustDARTS.</summary>
    public static readonly Normalization Svhn = new([0.4377f, 0.4438f, 0.4728f], [0.1980f, 0.2010f, 0.1970f]);
    public static readonly Normalization ImageNet = new([0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>Writes (v/255 - mean)/std for HWC floats in 0..255 into CHW.</summary>
    public void ToChw(ReadOnlySpan<float> hwc255, int height, int width, Span<float> chw)
    {
        int plane = height * width;
        for (int c = 0; c < 3; c++)
        {
            float scale = 1f / (255f * Std[c]), shift = -Mean[c] / Std[c];
            var dst = chw.Slice(c * plane, plane);
            for (int i = 0; i < plane; i++) dst[i] = hwc255[3 * i + c] * scale + shift;
        }
    }
}
