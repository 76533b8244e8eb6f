using System.Globalization;
using System.Text;

namespace SearchToDeploy.Sweeps;

/// <summary>
/// A sweep as a Slurm job array (<c>sbatch sweep.sbatch</c>): one array task per run, each an ordinary resumable
/// <c>s2d search</c>, so a preempted and requeued task continues from its last checkpoint.
/// </summary>
public static class SlurmScript
{
    public const string FileName = "sweep.sbatch";

    /// <param name="self">How to start s2d on the cluster's nodes (its executable, or dotnet and its dll).</param>
    /// <param name="concurrent">At most this many tasks at once (the array's %limit; 0: no limit).</param>
    /// <param name="sbatch">Extra #SBATCH lines (e.g. "--partition=gpu", "--time=04:00:00"), as given.</param>
    /// <param name="threads">Torch threads per task (0: the task's CPUs).</param>
    public static string Create(SweepPlan plan, string sweepDir, string dataRoot, IReadOnlyList<string> self, int cpus, int concurrent, IReadOnlyList<string> sbatch, int threads = 0)
    {
        string dir = Path.GetFullPath(sweepDir);
        var sb = new StringBuilder();
        sb.AppendLine("#!/bin/bash");
        sb.AppendLine($"# s2d sweep: {plan.Runs.Count} searches, one array task each; submit with: sbatch {Path.Combine(dir, FileName)}");
        sb.AppendLine("# Each task is 's2d search --config <run>/settings.json --out <run> --resume': requeued or run again, it continues.");
        sb.AppendLine($"#SBATCH --job-name=s2d-{Path.GetFileName(dir.TrimEnd('/'))}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"#SBATCH --array=0-{plan.Runs.Count - 1}{(concurrent > 0 ? $"%{concurrent}" : "")}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={cpus}");
        sb.AppendLine("#SBATCH --ntasks=1");
        sb.AppendLine("#SBATCH --requeue");
        sb.AppendLine($"#SBATCH --output={Path.Combine(dir, "slurm-%A_%a.out")}");
        foreach (string line in sbatch) sb.AppendLine($"#SBATCH {line}");
        sb.AppendLine("set -euo pipefail");
        sb.AppendLine("RUNS=(");
        foreach (var r in plan.Runs) sb.AppendLine($"  {Quote(r.Name)}");
        sb.AppendLine(")");
        sb.AppendLine("RUN=\"${RUNS[$SLURM_ARRAY_TASK_ID]}\"");
        string s2d = string.Join(' ', self.Select(Quote));
        sb.AppendLine($"exec {s2d} search --config {Quote(dir)}/\"$RUN\"/{SweepRun.SettingsFileName} --data-root {Quote(Path.GetFullPath(dataRoot))} " +
                      $"--out {Quote(dir)}/\"$RUN\" --resume --threads {(threads > 0 ? threads.ToString(CultureInfo.InvariantCulture) : $"\"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"")}");
        return sb.ToString();
    }

    /// <summary>A word for bash: as is when plain, else in single quotes.</summary>
    public static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or ':' or '=' or ',') ? word : "'" + word.Replace("'", "'\\''") + "'";
}
