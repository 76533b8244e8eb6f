namespace SearchToDeploy.Cli.Serving;

/// <summary>A request the server refuses: its HTTP status and the message of its JSON error (and Retry-After for 503).</summary>
public sealed class ServingException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>Whether <paramref name="e"/> is a refused request: a <see cref="ServingException"/> or Kestrel's bad request.</summary>
    internal static bool IsRefusal(Exception e) => e is ServingException or Microsoft.AspNetCore.Http.BadHttpRequestException;

    /// <summary>
    /// The status and message of a refused request (<see cref="IsRefusal"/>): a <see cref="ServingException"/> as it
    /// says (503 adds Retry-After), Kestrel's bad requests with their status (413: <paramref name="overLimit"/>).
    /// </summary>
    internal static (int Status, string Message) Refusal(Exception e, Microsoft.AspNetCore.Http.HttpRequest request, string overLimit)
    {
        if (e is Microsoft.AspNetCore.Http.BadHttpRequestException b)
            return (b.StatusCode, b.StatusCode == Microsoft.AspNetCore.Http.StatusCodes.Status413PayloadTooLarge ? overLimit : $"bad request: {b.Message}");
        var s = (ServingException)e;
        if (s.Status == 503) request.HttpContext.Response.Headers.RetryAfter = "1";
        return (s.Status, s.Message);
    }
}
