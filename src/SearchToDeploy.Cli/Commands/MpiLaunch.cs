using SearchToDeploy.Core.Distributed;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Runs;

namespace SearchToDeploy.Cli.Commands;

/// <summary>
/// s2d search and s2d train under an MPI launcher (mpirun -np N, srun): every rank runs the command with the same
/// options; rank 0 prints and writes the run folder, the others print only their errors. An error on one rank ends
/// the whole job at once (MPI_Abort), so no rank waits for one that is gone.
/// </summary>
public static class MpiLaunch
{
    /// <summary>Runs <paramref name="body"/> in this process's rank (one process when not launched by MPI).</summary>
    public static int Guard(CliIo io, Func<IGradientSync, CliIo, int> body)
    {
        try { MpiGradientSync.CheckNotAloneInStep(); }
        catch (InputException e)
        {
            io.Err.WriteLine($"error: {e.Message}");
            return S2dApp.BadInput;
        }
        if (!MpiGradientSync.Launched()) return io.Guard(() => body(IGradientSync.SingleProcess, io));
        MpiGradientSync sync;
        try { sync = MpiGradientSync.Start(io.Err); }
        catch (InputException e)
        {
            io.Err.WriteLine($"error: {e.Message}");
            return S2dApp.BadInput;
        }
        var rankIo = sync.Rank == 0 ? io : new CliIo(TextWriter.Null, new PrefixedWriter(io.Err, $"rank {sync.Rank}: "));
        int code = rankIo.Guard(() => body(sync, rankIo));
        if (code != S2dApp.Success && sync.Size > 1)
        {
            io.Err.Flush();
            sync.Abort(code);
        }
        sync.Dispose();
        return code;
    }

    /// <summary>
    /// Settles what an interrupted --force left in <paramref name="dir"/> (rank 0, under the folder's lock; the others
    /// wait), before any rank reads the folder's run (a resume's saved options and checkpoint).
    /// </summary>
    public static void SettleRunFolder(IGradientSync sync, CliIo io, string dir)
    {
        if (sync.IsMain) RunFolder.SettleReplacement(dir, io.Err);
        sync.Barrier();
    }

    /// <summary>
    /// Rank 0 holds the run folder for the run (<see cref="RunFolder.Lease"/>: locked; with --force its earlier run kept
    /// aside until the run ends) while the others wait; null on the other ranks. Dispose it after the run's log
    /// (<see cref="OpenRunLog"/>).
    /// </summary>
    public static RunFolderLease? LeaseRunFolder(IGradientSync sync, CliIo io, string dir, string kind, bool force)
    {
        var lease = sync.IsMain ? RunFolder.Lease(dir, kind, force, io.Err) : null;
        sync.Barrier();
        return lease;
    }

    /// <summary>The run's log: every rank writes through rank 0, which keeps it in the run folder.</summary>
    public static RunLog OpenRunLog(IGradientSync sync, CliIo io, string dir, string logName) =>
        new(io.Out, sync.IsMain ? Path.Combine(dir, logName) : null);

    private sealed class PrefixedWriter(TextWriter inner, string prefix) : TextWriter
    {
        public override System.Text.Encoding Encoding => inner.Encoding;
        public override void WriteLine(string? value) => inner.WriteLine(prefix + value);
        public override void Write(char value) => inner.Write(value);
        public override void Flush() => inner.Flush();
    }
}
