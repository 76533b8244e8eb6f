
namespace SearchToDeploy.Data;

/// <summary>What <c>s2d data verify</c> found: lines to show and problems (any problem means the dataset is unusable).</summary>
public sealed class VerifyReport
{
    public List<string> Lines { get; } = [];
    public List<string> Problems { get; } = [];
    public bool Ok => Problems.Count == 0;
}
