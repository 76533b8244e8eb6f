using SearchToDeploy.Core;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Transforms;

namespace SearchToDeploy.Tests.Data;

public sealed class TransformTests
{
    private static RgbImage Gradient(int w, int h)
    {
        var px = new byte[w * h * 3];
        for (int i = 0; i < px.Length; i++) px[i] = (byte)(i * 31 % 256);
        return new RgbImage(px, w, h);
    }

    private static (float Min, float Max) Range(Normalization n, int c) => ((0 - n.Mean[c]) / n.Std[c], (1 - n.Mean[c]) / n.Std[c]);

    [Fact]
    public void Cifar_eval_transform_is_exact_normalisation()
    {
        var img = Gradient(32, 32);
        var outp = new float[3 * 32 * 32];
        var rng = new Rng(1);
        CifarTransform.Eval(Normalization.Cifar10).Apply(img, ref rng, outp);
        var (r, _, b) = img[3, 5];
        Assert.Equal((r / 255f - 0.49139968f) / 0.24703233f, outp[0 * 1024 + 3 * 32 + 5], 5);
        Assert.Equal((b / 255f - 0.44653124f) / 0.26158768f, outp[2 * 1024 + 3 * 32 + 5], 5);
    }

    [Fact]
    public void Cifar_train_transform_stays_in_the_normalised_range_and_cuts_out_a_zero_square()
    {
        var n = Normalization.Cifar10;
        var t = CifarTransform.Train(n, cutout: 16);
        var outp = new float[3 * 32 * 32];
        int zeroCounts = 0;
        for (int s = 0; s < 20; s++)
        {
            var rng = Rng.For(3, s);
            t.Apply(Gradient(32, 32), ref rng, outp);
            for (int c = 0; c < 3; c++)
            {
                var (lo, hi) = Range(n, c);
                for (int i = 0; i < 1024; i++)
                {
                    float v = outp[c * 1024 + i];
                    Assert.True(v == 0 || (v >= lo - 1e-5 && v <= hi + 1e-5), $"value {v} out of range");
                }
            }
            zeroCounts += outp.Count(v => v == 0);
        }
        Assert.True(zeroCounts > 20 * 3 * 64, "cutout should zero at least an 8x8 corner square per image");
    }

    [Theory]
    [InlineData(0.0, 0, 0)]
    [InlineData(0.5, 60, 140)]
    [InlineData(1.0, 200, 200)]
    public void Cutout_reaches_the_share_of_images_its_probability_says(double probability, int min, int max)
    {
        // RobustDARTS's search raises it over the epochs; no padding or flip, so zeros come from the cutout alone.
        var t = new CifarTransform(Normalization.Cifar10, 32, 0, false, 16) { CutoutProbability = probability };
        var outp = new float[3 * 32 * 32];
        int cut = 0;
        for (int s = 0; s < 200; s++)
        {
            var rng = Rng.For(11, s);
            t.Apply(Gradient(32, 32), ref rng, outp);
            if (outp.Contains(0f)) cut++;
        }
        Assert.InRange(cut, min, max);
    }

    [Fact]
    public void Cifar_train_transform_is_a_function_of_the_generator()
    {
        var t = CifarTransform.Train(Normalization.Cifar10, cutout: 16);
        float[] a = new float[3072], b = new float[3072], c = new float[3072];
        var r1 = Rng.For(9, 1); var r2 = Rng.For(9, 1); var r3 = Rng.For(9, 2);
        t.Apply(Gradient(32, 32), ref r1, a);
        t.Apply(Gradient(32, 32), ref r2, b);
        t.Apply(Gradient(32, 32), ref r3, c);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Imagenet_train_and_eval_outputs_are_224_and_in_range()
    {
        var img = Gradient(300, 257);
        var n = Normalization.ImageNet;
        var outp = new float[3 * 224 * 224];
        var rng = new Rng(5);
        new ImageNetTrainTransform(n, 224, new ColorJitter(0.4f, 0.4f, 0.4f, 0.2f)).Apply(img, ref rng, outp);
        for (int c = 0; c < 3; c++)
        {
            var (lo, hi) = Range(n, c);
            Assert.All(outp.AsSpan(c * 224 * 224, 224 * 224).ToArray(), v => Assert.InRange(v, lo - 1e-4f, hi + 1e-4f));
        }
        var eval = ResizeCropTransform.ImageNetEval();
        Assert.Equal((256, 224), (eval.ResizeShorter, eval.Crop));
        eval.Apply(img, ref rng, outp);
        Assert.All(outp, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Resize_256_centre_crop_224_takes_the_torchvision_box()
    {
        // 500x375 -> resize to 341x256, crop 224 at left round(58.5)=58 (half to even), top 16.
        var t = ResizeCropTransform.ImageNetEval();
        var (x0, y0, x1, y1) = t.SourceBox(500, 375);
        double s = 375.0 / 256;
        Assert.Equal(58 * (500.0 / 341), x0, 9);
        Assert.Equal(16 * s, y0, 9);
        Assert.Equal((58 + 224) * (500.0 / 341), x1, 9);
        Assert.Equal(240 * s, y1, 9);
    }

    [Theory]
    [InlineData("resample_pil_17x13.rgb", 17, 13, 2.5, 3.0, 37.0, 28.5)]
    [InlineData("resample_pil_57x45.rgb", 57, 45, 0, 0, 40, 30)]
    public void Bilinear_resampling_matches_PIL(string reference, int w, int h, double x0, double y0, double x1, double y1)
    {
        var src = ImageDecoder.DecodeFile(TestPaths.Fixture("resample_src.png"));
        Assert.Equal((40, 30), (src.Width, src.Height));
        var expected = File.ReadAllBytes(TestPaths.Fixture(reference));
        var got = new float[w * h * 3];
        Resampler.ResizeBox(src, x0, y0, x1, y1, w, h, got);
        double maxDiff = 0;
        for (int i = 0; i < got.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(got[i] - expected[i]));
        Assert.True(maxDiff <= 1.0, $"max |ours - PIL| = {maxDiff} (PIL rounds to 8 bits with fixed-point weights)");
    }

    [Fact]
    public void Random_resized_crop_stays_inside_the_image_and_covers_the_scale_range()
    {
        var t = new ImageNetTrainTransform(Normalization.ImageNet);
        double minFrac = 1, maxFrac = 0;
        for (int i = 0; i < 500; i++)
        {
            var rng = Rng.For(1, i);
            var (x, y, w, h) = t.SampleCrop(320, 240, ref rng);
            Assert.True(x >= 0 && y >= 0 && x + w <= 320 && y + h <= 240);
            double frac = (double)w * h / (320 * 240);
            minFrac = Math.Min(minFrac, frac); maxFrac = Math.Max(maxFrac, frac);
        }
        Assert.InRange(minFrac, 0.07, 0.15);
        Assert.InRange(maxFrac, 0.85, 1.0);
    }
}
