namespace SearchToDeploy.Runs.Search;

/// <summary>The names of the rules that choose a search's final cell (<see cref="SearchOptions.Selection"/>).</summary>
public static class CellSelection
{
    /// <summary>The space's rule on α: each edge's op of largest weight (DARTS's, and the paper's).</summary>
    public const string Alpha = "alpha";

    /// <summary>What the trained supernet loses without each op and input (DARTS-PT without fine-tuning).</summary>
    public const string Perturbation = "perturbation";

    public static bool IsKnown(string name) => name is Alpha or Perturbation;
}
