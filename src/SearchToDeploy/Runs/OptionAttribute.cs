namespace SearchToDeploy.Runs;

/// <summary>
/// Declares a run setting as an option: its command-line name, what it does, and the range it accepts. The options
/// records (<see cref="Search.SearchOptions"/>, <see cref="Training.TrainOptions"/>) carry these where the settings are
/// defined; <see cref="OptionTable"/> reads them for the command line, the pipeline's overrides and settings files.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionAttribute(string name, string description) : Attribute
{
    /// <summary>The command-line name, e.g. "--lr".</summary>
    public string Name { get; } = name;
    public string Description { get; } = description;
    public double Min { get; init; } = double.NegativeInfinity;
    public double Max { get; init; } = double.PositiveInfinity;
    public bool MinExclusive { get; init; }
    public bool MaxExclusive { get; init; }
}
