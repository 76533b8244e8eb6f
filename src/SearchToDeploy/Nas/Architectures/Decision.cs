
namespace SearchToDeploy.Nas.Architectures;

/// <summary>One choice a derivation rule made, with the weights of the winner and of the strongest rival.</summary>
public sealed record Decision(string What, double Winner, double RunnerUp)
{
    /// <summary>The winner's lead as a share of its weight: 0 for a tie, 1 when the rival weighs nothing.</summary>
    public double Lead => Winner <= 0 || double.IsNegativeInfinity(RunnerUp) ? 1 : Math.Clamp((Winner - RunnerUp) / Winner, 0, 1);
}
