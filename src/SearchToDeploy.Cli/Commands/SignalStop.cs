using System.Runtime.InteropServices;

namespace SearchToDeploy.Cli.Commands;

/// <summary>
/// SIGTERM or Ctrl+C (a scheduler's or a container's stop, a user) cancels a long command's work instead of killing the
/// process: a search or training stops between steps, an MPI stage's job is killed with it, and what the command holds
/// (a run folder's lock, an earlier run kept aside by --force) is settled on the way out, and the command exits with the
/// signal's exit code (128 + its number: 130, 143). Work that does not stop within 15 s, or a second signal, ends the
/// process at once with the same code.
/// </summary>
public sealed class SignalStop : CancellationTokenSource
{
    private readonly List<PosixSignalRegistration> _registrations = [];

    public static SignalStop Create(CliIo io, string what)
    {
        var stop = new SignalStop();
        void OnSignal(PosixSignalContext c)
        {
            int code = CliIo.ExitCodeOf(c.Signal);
            if (stop.IsCancellationRequested) Environment.Exit(code); // asked twice: now
            c.Cancel = true;
            io.StoppedBy = c.Signal;
            io.Err.WriteLine($"{c.Signal}: stopping {what} (a rerun resumes it)");
            stop.Cancel();
            _ = Task.Delay(TimeSpan.FromSeconds(15)).ContinueWith(_ => Environment.Exit(code), TaskScheduler.Default);
        }
        stop._registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal));
        stop._registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal));
        return stop;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) foreach (var r in _registrations) r.Dispose();
        base.Dispose(disposing);
    }
}
