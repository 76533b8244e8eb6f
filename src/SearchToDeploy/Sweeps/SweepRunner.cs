using System.Diagnostics;
using SearchToDeploy.Core.Io;

namespace SearchToDeploy.Sweeps;

/// <summary>
/// Runs a sweep's searches on this machine, at most <c>jobs</c> at a time, each as its own <c>s2d search</c> process
/// (its output in the run's log.txt). Finished runs are skipped; an interrupted sweep run again continues each
/// unfinished search from its checkpoint.
/// </summary>
public static class SweepRunner
{
    /// <returns>The names of the runs that failed.</returns>
    public static IReadOnlyList<string> Run(SweepPlan plan, string sweepDir, string dataRoot, IReadOnlyList<string> self, int jobs, int threads,
        TextWriter log, CancellationToken cancel = default)
    {
        var todo = plan.Runs.Where(r => !SweepReport.Finished(Path.Combine(sweepDir, r.Name))).ToList();
        log.WriteLine($"sweep: {plan.Runs.Count} searches, {plan.Runs.Count - todo.Count} finished already, {todo.Count} to run, {jobs} at a time with {threads} threads each");
        var failed = new List<string>();
        var gate = new object();
        int done = 0;
        var watch = Stopwatch.StartNew();
        Parallel.ForEach(todo, new ParallelOptions { MaxDegreeOfParallelism = jobs, CancellationToken = cancel }, run =>
        {
            var args = run.Arguments(sweepDir, dataRoot, threads);
            var psi = new ProcessStartInfo(self[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in self.Skip(1).Concat(args)) psi.ArgumentList.Add(a);
            // Each search is a process of its own, not a rank of a job the sweep may run in (srun --mpi=pmix s2d sweep).
            foreach (string v in Core.Distributed.MpiGradientSync.LaunchVariables) psi.Environment.Remove(v);
            lock (gate) log.WriteLine($"[{run.Name}] started");
            var start = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            var errors = new List<string>();
            p.OutputDataReceived += (_, _) => { }; // the run's log.txt has it
            p.ErrorDataReceived += (_, e) => { if (e.Data is { } line) lock (errors) errors.Add(line); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            using (cancel.Register(() => { try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }))
                p.WaitForExit();
            lock (gate)
            {
                done++;
                double left = watch.Elapsed.TotalSeconds / done * (todo.Count - done);
                if (p.ExitCode == 0)
                    log.WriteLine($"[{run.Name}] done in {ProgressMeter.FormatDuration(start.Elapsed)} ({done}/{todo.Count}; about {ProgressMeter.FormatDuration(TimeSpan.FromSeconds(left))} left)");
                else
                {
                    failed.Add(run.Name);
                    log.WriteLine($"[{run.Name}] FAILED (exit code {p.ExitCode}): {string.Join(" / ", errors.TakeLast(3))}; see {Path.Combine(sweepDir, run.Name, "log.txt")}");
                }
            }
        });
        return failed;
    }
}
