using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Core.Optim;

public static class Gradients
{
    /// <summary>Sets the gradients of the parameters to zero (where they exist).</summary>
    public static void Zero(IEnumerable<Parameter> parameters)
    {
        foreach (var p in parameters)
        {
            using var g = p.grad;
            g?.zero_();
        }
    }

    /// <summary>Clips the global L2 norm of the gradients to <paramref name="maxNorm"/>; returns the norm before clipping.</summary>
    public static double ClipNorm(IReadOnlyList<Parameter> parameters, double maxNorm)
    {
        using var _ = torch.no_grad();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return 0;
        var norms = grads.Select(g => g.norm()).ToArray();
        using var stacked = torch.stack(norms);
        using var total = stacked.norm();
        double norm = total.ToDouble();
        if (maxNorm > 0 && norm > maxNorm)
        {
            double scale = maxNorm / (norm + 1e-6);
            using var s = scale.ToScalar();
            foreach (var g in grads) g.mul_(s);
        }
        foreach (var t in norms) t.Dispose();
        foreach (var g in grads) g.Dispose();
        return norm;
    }

    /// <summary>Whether every element of <paramref name="tensors"/> is finite (neither NaN nor infinite).</summary>
    public static bool AllFinite(IEnumerable<Tensor> tensors)
    {
        foreach (var t in tensors)
        {
            using var each = torch.isfinite(t); // a parameter-sized tensor: on a GPU, not left to the collector
            using var all = each.all();
            if (!all.item<bool>()) return false;
        }
        return true;
    }
}
