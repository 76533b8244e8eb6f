namespace SearchToDeploy.Deploy.Inference;

/// <summary>The batcher's queue is full (or closing): the request should be retried later (HTTP 503).</summary>
public sealed class QueueFullException(string message) : Exception(message);
