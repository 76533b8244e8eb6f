using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Nas.Strategies;

/// <summary>What a step's gradient phase saw: the training logits and loss, the architecture (validation) loss (0 while α
/// is held) and each part's milliseconds (with parallel steps the parts overlap: each is its own side's time).</summary>
public sealed record StepResult(Tensor Logits, double Loss, double ArchLoss, double ArchMilliseconds, double WeightMilliseconds);
