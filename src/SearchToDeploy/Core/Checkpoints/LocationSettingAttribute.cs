namespace SearchToDeploy.Core.Checkpoints;

/// <summary>
/// Marks a run setting that says where something is, not what it is (the data folder, which a resume may point elsewhere
/// when the data moved, and a node may hold its own copy of): left out of a run's identity, like the runtime settings
/// (<see cref="CheckpointFile.OptionDifferences"/>); what the data is, its classes and its files' fingerprint say.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class LocationSettingAttribute : Attribute;
