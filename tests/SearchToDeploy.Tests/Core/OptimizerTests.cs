using SearchToDeploy.Core.Optim;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using ParamGroup = SearchToDeploy.Core.Optim.ParamGroup;
using Adam = SearchToDeploy.Core.Optim.Adam;
using static TorchSharp.torch;

namespace SearchToDeploy.Tests.Core;

/// <summary>s2d's SGD, Adam and gradient clipping against libtorch's own, step by step on the same gradients.</summary>
public sealed class OptimizerTests
{
    /// <summary>Two copies of the same parameters (float64), and for each step the gradients both get.</summary>
    private static (Parameter[] Ours, Parameter[] Theirs, Tensor[][] Grads) Setup(int steps)
    {
        torch.manual_seed(3);
        long[][] shapes = [[4, 3], [5], [2, 2, 3]];
        var ours = shapes.Select(s => new Parameter(torch.randn(s, dtype: ScalarType.Float64))).ToArray();
        var theirs = ours.Select(p => new Parameter(p.detach().clone())).ToArray();
        var grads = Enumerable.Range(0, steps).Select(_ => shapes.Select(s => torch.randn(s, dtype: ScalarType.Float64)).ToArray()).ToArray();
        return (ours, theirs, grads);
    }

    private static void SetGrads(Parameter[] ps, Tensor[] grads)
    {
        for (int i = 0; i < ps.Length; i++) ps[i].grad = grads[i].clone();
    }

    private static void AssertSame(Parameter[] a, Parameter[] b, string what)
    {
        for (int i = 0; i < a.Length; i++)
        {
            double d = (a[i] - b[i]).abs().max().item<double>();
            Assert.True(d < 1e-12, $"{what}: parameter {i} differs by {d:E2}");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sgd_with_momentum_and_per_group_weight_decay_steps_as_torch_does(bool nesterov)
    {
        var (ours, theirs, grads) = Setup(4);
        // Two groups of different weight decay: the first parameter in one, the others in the second.
        var sgd = new Sgd([new ParamGroup([ours[0]], 3e-4), new ParamGroup([.. ours.Skip(1)], 0)], 0.9, nesterov);
        var first = torch.optim.SGD([theirs[0]], 0.05, momentum: 0.9, weight_decay: 3e-4, nesterov: nesterov);
        var rest = torch.optim.SGD(theirs.Skip(1), 0.05, momentum: 0.9, weight_decay: 0, nesterov: nesterov);
        foreach (var (g, step) in grads.Select((g, i) => (g, i)))
        {
            SetGrads(ours, g);
            SetGrads(theirs, g);
            sgd.Step(0.05);
            first.step();
            rest.step();
            AssertSame(ours, theirs, $"SGD step {step}");
        }
    }

    [Fact]
    public void Adam_with_l2_weight_decay_steps_as_torch_does()
    {
        var (ours, theirs, grads) = Setup(5);
        var adam = new Adam(ours, 3e-4, 0.5, 0.999, 1e-3);
        var reference = torch.optim.Adam(theirs, 3e-4, 0.5, 0.999, 1e-8, weight_decay: 1e-3);
        foreach (var (g, step) in grads.Select((g, i) => (g, i)))
        {
            SetGrads(ours, g);
            SetGrads(theirs, g);
            adam.Step();
            reference.step();
            AssertSame(ours, theirs, $"Adam step {step}");
        }
    }

    [Fact]
    public void Clipping_scales_the_gradients_to_the_global_norm_as_torch_does()
    {
        var (ours, theirs, grads) = Setup(1);
        SetGrads(ours, grads[0]);
        SetGrads(theirs, grads[0]);
        double norm = Gradients.ClipNorm(ours, 0.5);
        double expected = torch.nn.utils.clip_grad_norm_(theirs, 0.5);
        Assert.Equal(expected, norm, 10);
        Assert.True(norm > 0.5); // it did clip
        for (int i = 0; i < ours.Length; i++)
            Assert.True((ours[i].grad! - theirs[i].grad!).abs().max().item<double>() < 1e-12, $"gradient {i}");
        using var total = torch.stack(ours.Select(p => p.grad!.norm()).ToArray()).norm();
        Assert.Equal(0.5, total.item<double>(), 5);
        // Under the limit: left alone.
        SetGrads(ours, grads[0]);
        Assert.Equal(norm, Gradients.ClipNorm(ours, 100), 10);
        Assert.True((ours[0].grad! - grads[0][0]).abs().max().item<double>() == 0);
    }
}
