using SearchToDeploy.Nas.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SearchToDeploy.Nas.Networks;

/// <summary>Parameter count (auxiliary head excluded, as published) and multiply-adds of one image at the network's input size.</summary>
public sealed record ModelSize(long Parameters, long AuxiliaryParameters, long MultiplyAdds, int InputSize)
{
    public static ModelSize Measure(RetrainNetwork net, int? inputSize = null)
    {
        long main = 0, aux = 0;
        foreach (var (name, p) in net.named_parameters())
        {
            if (name.StartsWith(RetrainNetwork.AuxiliaryPrefix, StringComparison.Ordinal)) aux += p.numel();
            else main += p.numel();
        }
        int size = inputSize ?? net.InputSize;
        bool wasTraining = net.training;
        net.eval();
        long macs;
        using (torch.no_grad())
        using (var counter = new MacCounter(net))
        using (var x = torch.zeros(2, 3, size, size)) // batch 2: libtorch tries (and on this CPU fails to start) NNPACK for batch 1, with a warning per conv
        {
            try
            {
                using var y = net.call(x);
            }
            catch (Exception e) when (e is not InputException)
            {
                net.train(wasTraining);
                throw new InputException($"the {RetrainNetwork.KindName(net.Kind)} network does not fit {size}x{size} inputs: {Core.Torch.NativeErrors.Message(e)}");
            }
            macs = counter.MultiplyAdds / 2;
        }
        foreach (var (name, m) in net.named_modules())
            if (m is Linear l && !name.StartsWith(RetrainNetwork.AuxiliaryPrefix, StringComparison.Ordinal)) macs += l.weight!.numel();
        net.train(wasTraining);
        return new ModelSize(main, aux, macs, size);
    }

    public string Describe() =>
        $"{Parameters / 1e6:0.###}M parameters (auxiliary head: {AuxiliaryParameters / 1e6:0.###}M more), {MultiplyAdds / 1e6:0.#}M multiply-adds at {InputSize}x{InputSize}";
}
