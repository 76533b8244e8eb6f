namespace SearchToDeploy.Cli.Serving;

/// <summary>A request the server refuses: its HTTP status and the message of its JSON error (and Retry-After for 503).</summary>
public sealed class ServingException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
