namespace SearchToDeploy.Data;

/// <summary>A dataset file or folder that should exist does not. The message says what to put where.</summary>
public sealed class DatasetNotFoundException(string message) : InputException(message);
