using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using TorchSharp;
using TorchSharp.Modules;
using IdentityOp = SearchToDeploy.Nas.Ops.Identity;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Networks;

/// <summary>
/// A DARTS evaluation cell built from a genotype (quark0/darts model.py Cell): preprocess the two inputs to C
/// channels (FactorizedReduce after a reduction cell, else ReLU-conv1x1-BN), then node i = op(h_a) + op(h_b) for the
/// genotype's entries 2i and 2i+1, then the channel concat of the concat nodes. In a reduction cell the ops on the
/// cell inputs have stride 2. In training, drop-path zeroes the output of every non-identity op per sample.
/// </summary>
public sealed class DartsCell : nn.Module
{
    private readonly Module<Tensor, Tensor> preprocess0;
    private readonly Module<Tensor, Tensor> preprocess1;
    private readonly ModuleList<Module<Tensor, Tensor>> ops;
    private readonly int[] _indices;
    private readonly int[] _concat;

    public DartsCell(DartsGenotype genotype, long cPrevPrev, long cPrev, long c, bool reduction, bool reductionPrev)
        : base(nameof(DartsCell))
    {
        var cfg = OpConfig.Eval;
        preprocess0 = reductionPrev ? new FactorizedReduce(cPrevPrev, c, cfg) : new ReLUConvBN(cPrevPrev, c, 1, 1, 0, cfg);
        preprocess1 = new ReLUConvBN(cPrev, c, 1, 1, 0, cfg);
        var edges = genotype.Cell(reduction);
        _indices = [.. edges.Select(e => e.Input)];
        _concat = [.. genotype.Concat(reduction)];
        ops = ModuleList([.. edges.Select(e => OpRegistry.CreateDarts(e.Op, c, reduction && e.Input < 2 ? 2 : 1, cfg))]);
        OutChannels = c * _concat.Length;
        RegisterComponents();
    }

    public long OutChannels { get; }
    public Module<Tensor, Tensor> Preprocess0 => preprocess0;
    public Module<Tensor, Tensor> Preprocess1 => preprocess1;
    public IReadOnlyList<Module<Tensor, Tensor>> Ops => [.. ops];
    /// <summary>The input state of each op: 0 and 1 are the preprocessed cell inputs, 2.. the nodes.</summary>
    public IReadOnlyList<int> Indices => _indices;
    public IReadOnlyList<int> ConcatNodes => _concat;

    public Tensor Forward(Tensor s0, Tensor s1, double dropPath)
    {
        var states = new List<Tensor> { preprocess0.call(s0), preprocess1.call(s1) };
        try
        {
            for (int i = 0; i < _indices.Length / 2; i++)
            {
                using var h1 = Apply(2 * i, states, dropPath);
                using var h2 = Apply(2 * i + 1, states, dropPath);
                states.Add(SearchToDeploy.Core.Torch.TensorSums.Add(h1, h2));
            }
            return torch.cat([.. _concat.Select(i => states[i])], 1);
        }
        finally
        {
            foreach (var s in states) s.Dispose();
        }
    }

    private Tensor Apply(int k, List<Tensor> states, double dropPath)
    {
        var op = ops[k];
        var y = op.call(states[_indices[k]]);
        if (!training || dropPath <= 0 || op is IdentityOp) return y;
        using (y) return DropPath.Apply(y, dropPath);
    }
}
