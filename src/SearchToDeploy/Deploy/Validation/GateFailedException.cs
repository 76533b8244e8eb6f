
namespace SearchToDeploy.Deploy.Validation;

/// <summary>A measured accuracy is under its gate; the message gives measured vs required.</summary>
public sealed class GateFailedException(string message) : Exception(message);
