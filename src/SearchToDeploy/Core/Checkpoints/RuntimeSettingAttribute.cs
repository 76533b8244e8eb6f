namespace SearchToDeploy.Core.Checkpoints;

/// <summary>
/// Marks a run setting that says where and how fast a run goes, not what it computes (threads, loader workers, the
/// device, when to stop this invocation, a look-up table): it may change when a run is resumed or a stage is rerun.
/// Every other setting is part of the run's identity (<see cref="CheckpointFile.OptionDifferences"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RuntimeSettingAttribute : Attribute;
