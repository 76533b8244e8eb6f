
namespace SearchToDeploy.Cli;

/// <summary>Where commands write, and the one place that turns exceptions into exit codes.</summary>
public sealed class CliIo(TextWriter output, TextWriter error)
{
    public TextWriter Out { get; } = output;
    public TextWriter Err { get; } = error;

    /// <summary>
    /// The signal that cancelled the command's work (<see cref="Commands.SignalStop"/>), or null: a command stopped
    /// by SIGINT or SIGTERM exits with 128 + its number (130, 143), as one killed by it would, so a shell or scheduler
    /// tells a stop from a failure.
    /// </summary>
    public System.Runtime.InteropServices.PosixSignal? StoppedBy { get; set; }

    /// <summary>The exit code of a process ended by <paramref name="signal"/> (128 + its number).</summary>
    public static int ExitCodeOf(System.Runtime.InteropServices.PosixSignal signal) =>
        128 + (signal == System.Runtime.InteropServices.PosixSignal.SIGINT ? 2 : 15);

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
        catch (OperationCanceledException) when (StoppedBy is { } signal)
        {
            Err.WriteLine($"stopped by {signal}; running the same command again goes on");
            return ExitCodeOf(signal);
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
