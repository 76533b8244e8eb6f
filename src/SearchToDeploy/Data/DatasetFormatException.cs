namespace SearchToDeploy.Data;

/// <summary>A dataset file exists but breaks its format (size, record count, label range, empty folder).</summary>
public sealed class DatasetFormatException(string message) : InputException(message);
