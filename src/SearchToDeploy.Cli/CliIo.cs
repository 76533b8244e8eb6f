
namespace SearchToDeploy.Cli;

/// <summary>Where commands write, and the one place that turns exceptions into exit codes.</summary>
public sealed class CliIo(TextWriter output, TextWriter error)
{
    public TextWriter Out { get; } = output;
    public TextWriter Err { get; } = error;

    /// <summary>Runs a command body: bad input gives exit code 2 with its message, other errors 1.</summary>
    public int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (InputException e)
        {
            Err.WriteLine($"error: {e.Message}");
            return S2dApp.BadInput;
        }
        catch (SearchToDeploy.Deploy.Validation.GateFailedException e)
        {
            Err.WriteLine($"error: {e.Message}");
            return S2dApp.GateFailed;
        }
        catch (Exception e) when (e is SearchToDeploy.Core.Optim.DivergedException or SearchToDeploy.Deploy.Export.ParityException)
        {
            Err.WriteLine($"error: {e.Message}");
            return S2dApp.Failure;
        }
        catch (OperationCanceledException)
        {
            Err.WriteLine("error: cancelled");
            return S2dApp.Failure;
        }
        catch (UnauthorizedAccessException e)
        {
            Err.WriteLine($"error: {e.Message}"); // a path this user may not read or write: its name is in the message
            return S2dApp.BadInput;
        }
        catch (Exception e) when (SearchToDeploy.Core.Torch.TorchBackend.MissingHostLibTorch(e) is { } message)
        {
            Err.WriteLine($"error: {message}");
            return S2dApp.BadInput;
        }
        catch (Exception e)
        {
            // libtorch's own errors carry its C++ backtrace in the message: show the message; the frames only on request.
            bool native = SearchToDeploy.Core.Torch.NativeErrors.HasBacktrace(e.Message);
            Err.WriteLine($"error: {(native ? "" : e.GetType().Name + ": ")}{SearchToDeploy.Core.Torch.NativeErrors.Message(e)}");
            if (!native || Environment.GetEnvironmentVariable("S2D_DEBUG") is "1") Err.WriteLine(native ? e.ToString() : e.StackTrace);
            return S2dApp.Failure;
        }
    }
}
