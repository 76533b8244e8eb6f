using System.Diagnostics;

namespace SearchToDeploy.Tests;

/// <summary>Runs a program as a child process (the s2d next to the tests, mpirun...) with the test data root.</summary>
public static class ChildProcess
{
    /// <summary>Runs a command to its end (or kills it after <paramref name="timeout"/>): exit code and all output.</summary>
    public static (int Code, string Output) Run(string file, IEnumerable<string> args, TimeSpan? timeout = null, Action<Process>? whileRunning = null,
        IReadOnlyDictionary<string, string>? env = null, string? installHint = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.Environment["S2D_DATA_ROOT"] = TestPaths.DataRoot;
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var output = new System.Text.StringBuilder();
        using var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is { } l) lock (output) output.AppendLine(l); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is { } l) lock (output) output.AppendLine(l); };
        try { p.Start(); }
        catch (System.ComponentModel.Win32Exception e) { throw new InvalidOperationException($"{file}: {e.Message}{(installHint is null ? "" : $" ({installHint})")}", e); }
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try { whileRunning?.Invoke(p); }
        catch
        {
            p.Kill(entireProcessTree: true); // a failed check must not leave mpirun and its ranks running
            throw;
        }
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish:\n{output}");
        }
        p.WaitForExit();
        lock (output) return (p.ExitCode, output.ToString());
    }
}
