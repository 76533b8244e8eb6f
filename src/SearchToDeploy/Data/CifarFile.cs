namespace SearchToDeploy.Data;

/// <summary>One file of a CIFAR binary split and the number of records it must hold.</summary>
public sealed record CifarFile(string Name, int Records);
