namespace SearchToDeploy.Tests.Cli;

/// <summary>A pipeline stage stopped by SIGTERM (a scheduler's kill, a container's stop) stops through its cancellation and resumes.</summary>
public sealed class SignalTests
{
    private static readonly string S2d = Path.Combine(AppContext.BaseDirectory, "s2d");

    [Fact]
    public void Sigterm_stops_a_pipeline_stage_through_its_cancellation_and_leaves_it_unfinished()
    {
        using var dir = new TempDir();
        string[] args = ["pipeline", "--stage", "search", "--profile", "smoke", "--runs", dir["runs"], "--models", dir["models"], "--run", "sig",
                         "--data-root", TestPaths.DataRoot, "--threads", "1"];
        string manifest = dir["runs/sig/search/manifest.json"];
        var (code, output) = ChildProcess.Run(S2d, args, TimeSpan.FromMinutes(3), whileRunning: p =>
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!(File.Exists(manifest) && File.ReadAllText(manifest).Contains("\"running\"")) && !p.HasExited && waited.Elapsed < TimeSpan.FromMinutes(2))
                Thread.Sleep(50);
            Thread.Sleep(1000); // inside the search's steps
            using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        });
        Assert.True(code == 143, $"exit code {code}:\n{output}"); // 128 + SIGTERM's number, as a killed process
        Assert.Contains("SIGTERM: stopping the stage (a rerun resumes it)", output);
        Assert.Contains("stopped by SIGTERM; running the same command again goes on", output); // through its cancellation, not the 15 s exit
        Assert.Contains("\"running\"", File.ReadAllText(manifest)); // not complete: the next run resumes or redoes it
        Assert.False(Directory.Exists(dir["models/sig"]));
    }
}
