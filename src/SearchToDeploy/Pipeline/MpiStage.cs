using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Nodes;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Runs;

namespace SearchToDeploy.Pipeline;

/// <summary>
/// The Search or Train stage as an MPI job (<see cref="PipelineInputs.Ranks"/> above 1): the stage's settings go to
/// the stage folder as a settings file, and the launcher (mpirun, srun) starts that many ranks of
/// <c>s2d search|train --config settings.json --out &lt;stage folder&gt;</c>, whose rank 0 writes the folder as a
/// one-process stage would. Its output is passed through; a failed job fails the stage, which then resumes from
/// rank 0's checkpoint (with the same number of ranks).
/// </summary>
public static class MpiStage
{
    public const string SettingsFileName = "settings.json";

    public static void Run(PipelineInputs inputs, string command, JsonObject settings, string dir, bool resume, TextWriter log, CancellationToken cancel)
    {
        if (inputs.SelfCommand is not { Count: > 0 } self) throw new InvalidOperationException("the s2d command to launch is not known");
        var launcher = Launcher(inputs.Launcher, inputs.Ranks);
        string file = Path.Combine(dir, SettingsFileName);
        AtomicFile.WriteAllText(file, SettingsFile.Write(settings, "json"));
        List<string> args = [.. launcher, .. self, command, "--config", file, "--data-root", inputs.DataRoot, "--out", dir, .. resume ? new[] { "--resume" } : []];
        var psi = new ProcessStartInfo(args[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args.Skip(1)) psi.ArgumentList.Add(a);
        log.WriteLine($"[{command}] {inputs.Ranks} MPI ranks: {string.Join(' ', args)}");
        Process p;
        try { p = Process.Start(psi) ?? throw new InputException($"--launcher '{inputs.Launcher}': did not start"); }
        catch (Win32Exception e)
        {
            throw new InputException($"--launcher '{inputs.Launcher}': cannot run {args[0]} ({e.Message}); install Open MPI (apt-get install openmpi-bin) or name your launcher");
        }
        using (p)
        {
            var gate = new object();
            void Pass(object _, DataReceivedEventArgs e)
            {
                if (e.Data is null) return;
                lock (gate) log.WriteLine(e.Data);
            }
            p.OutputDataReceived += Pass;
            p.ErrorDataReceived += Pass;
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            using (cancel.Register(() => { try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { } }))
                p.WaitForExit();
            cancel.ThrowIfCancellationRequested();
            if (p.ExitCode == 2)
                throw new InputException($"{command} stage: the {inputs.Ranks}-rank job stopped on bad input (exit code 2; its message is above)");
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"{command} stage: the {inputs.Ranks}-rank job failed (exit code {p.ExitCode}; see above); " +
                                                    "running the stage again resumes from rank 0's last checkpoint");
        }
    }

    /// <summary>
    /// The launcher's words with {ranks} filled in, split as a shell splits them (whitespace outside quotes; '...' and
    /// "..." quote, the quotes themselves dropped; \ escapes the next character outside single quotes); bad input
    /// without the placeholder or with an unclosed quote.
    /// </summary>
    public static IReadOnlyList<string> Launcher(string template, int ranks)
    {
        if (!template.Contains("{ranks}", StringComparison.Ordinal))
            throw new InputException($"--launcher '{template}': expected a command with {{ranks}} where the number of processes goes, e.g. 'mpirun -np {{ranks}}' or 'srun --mpi=pmix -n {{ranks}}'");
        return Words(template.Replace("{ranks}", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture)), template);
    }

    private static List<string> Words(string text, string template)
    {
        var words = new List<string>();
        var word = new System.Text.StringBuilder();
        bool inWord = false;
        char quote = '\0';
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quote == '\'') { if (c == '\'') quote = '\0'; else word.Append(c); continue; }
            if (c == '\\' && i + 1 < text.Length && (quote == '\0' || text[i + 1] is '"' or '\\')) { word.Append(text[++i]); inWord = true; continue; }
            if (quote == '"') { if (c == '"') quote = '\0'; else word.Append(c); continue; }
            if (c is '\'' or '"') { quote = c; inWord = true; continue; }
            if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
                continue;
            }
            word.Append(c);
            inWord = true;
        }
        if (quote != '\0') throw new InputException($"--launcher '{template}': a {quote} quote is not closed");
        if (inWord) words.Add(word.ToString());
        return words;
    }
}
