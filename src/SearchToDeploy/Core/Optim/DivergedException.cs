
namespace SearchToDeploy.Core.Optim;

/// <summary>A loss became NaN or infinite; the run stopped and its last good checkpoint is kept.</summary>
public sealed class DivergedException(string message) : Exception(message);
