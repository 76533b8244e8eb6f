using System.Diagnostics;
using System.Text.Json;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Transforms;
using SearchToDeploy.Sweeps;

namespace SearchToDeploy.Tests.Cli;

/// <summary>
/// Data-parallel runs under Open MPI's mpirun (2 ranks, real processes of the s2d next to the tests), and sweeps.
/// Open MPI comes from the project's set-up (.ci/run installs openmpi-bin).
/// </summary>
public sealed class ScaleOutTests
{
    private static readonly string S2d = Path.Combine(AppContext.BaseDirectory, "s2d");

    /// <summary>Runs a command to its end under Open MPI's settings for CI (root allowed, oversubscription): exit code and all output.</summary>
    private static (int Code, string Output) Run(string file, IEnumerable<string> args, TimeSpan? timeout = null, Action<Process>? whileRunning = null,
        IReadOnlyDictionary<string, string>? env = null)
    {
        // Open MPI refuses root unless told (CI containers run as root).
        var all = new Dictionary<string, string>
        {
            ["OMPI_ALLOW_RUN_AS_ROOT"] = "1", ["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1", ["OMPI_MCA_rmaps_base_oversubscribe"] = "1",
        };
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) all[k] = v;
        return ChildProcess.Run(file, args, timeout, whileRunning, all, "install Open MPI: apt-get install openmpi-bin");
    }

    private static (int Code, string Output) MpiRun(int ranks, IEnumerable<string> args, TimeSpan? timeout = null, Action<Process>? whileRunning = null,
        IReadOnlyDictionary<string, string>? env = null) =>
        Run("mpirun", ["-np", ranks.ToString(), S2d, .. args], timeout, whileRunning, env);

    private static string[] TinyTrain(string dir, int epochs, int batch = 32) =>
    [
        "train", "--genotype", "darts-v2", "--dataset", "cifar10", "--preset", "smoke", "--max-train-images", "256", "--max-valid-images", "128",
        "--epochs", epochs.ToString(), "--batch-size", batch.ToString(), "--channels", "8", "--layers", "3", "--threads", "1", "--workers", "0", "--out", dir,
    ];

    [Fact]
    public void Two_ranks_average_to_the_one_process_gradient_and_stay_identical()
    {
        var (code, output) = MpiRun(2, ["mpi", "check"]);
        Assert.True(code == 0, output);
        Assert.Contains("MPI: 2 ranks", output);
        Assert.Contains("gradient: 2 ranks at batch 8 each average to one process's gradient at batch 16", output);
        Assert.Contains("(ok, tolerance", output);
        Assert.Contains("bit-identical on every rank (ok)", output);
    }

    [Fact]
    public void Mpi_check_without_a_launcher_is_bad_input()
    {
        var (code, output) = Run(S2d, ["mpi", "check"]);
        Assert.Equal(2, code);
        Assert.Contains("not launched by an MPI launcher", output);
    }

    [Fact]
    public void Data_parallel_training_writes_one_run_folder_and_a_killed_job_resumes_to_the_same_result()
    {
        using var dir = new TempDir();
        // Uninterrupted: 2 ranks, 3 epochs.
        var whole = MpiRun(2, TinyTrain(dir["whole"], 3));
        Assert.True(whole.Code == 0, whole.Output);
        Assert.Contains("data-parallel: 2 MPI ranks, 16 images of each batch per rank", whole.Output);
        Assert.Contains("KB allreduced per step", whole.Output);
        Assert.Single(Directory.GetFiles(dir["whole"], "log.txt")); // rank 0 alone writes
        Assert.Equal(1, File.ReadAllText(dir["whole/log.txt"]).Split('\n').Count(l => l.Contains(" train: cifar network", StringComparison.Ordinal)));

        // Killed on rank 1 after its first checkpoint: the job ends (no rank waits), then resumes with 2 ranks.
        var killed = MpiRun(2, TinyTrain(dir["killed"], 3), whileRunning: p =>
        {
            int rank1 = RankProcess(p.Id, 1); // found first: once the checkpoint is there, the kill follows at once
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!File.Exists(dir["killed/last.s2d"]) && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Process.GetProcessById(rank1).Kill();
        });
        Assert.NotEqual(0, killed.Code);
        Assert.Contains("rank 1", killed.Output, StringComparison.OrdinalIgnoreCase);

        var wrongRanks = Run(S2d, [.. TinyTrain(dir["killed"], 3), "--resume"]);
        Assert.Equal(2, wrongRanks.Code);
        Assert.Contains("started with 2 ranks and resumes only with as many", wrongRanks.Output);

        var resumed = MpiRun(2, [.. TinyTrain(dir["killed"], 3), "--resume"]);
        Assert.True(resumed.Code == 0, resumed.Output);
        Assert.Equal(Metrics(dir["whole"]), Metrics(dir["killed"]));
    }

    [Fact]
    public void A_rank_that_hangs_makes_the_others_stop_with_a_clear_error()
    {
        using var dir = new TempDir();
        var (code, output) = MpiRun(2, TinyTrain(dir["hang"], 3), whileRunning: p =>
        {
            int rank1 = RankProcess(p.Id, 1); // found first: once the checkpoint is there, the stop follows at once
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!File.Exists(dir["hang/last.s2d"]) && DateTime.UtcNow < deadline) Thread.Sleep(20);
            using var stop = Process.Start("kill", ["-STOP", rank1.ToString()]);
            stop.WaitForExit();
        }, timeout: TimeSpan.FromMinutes(2), env: new Dictionary<string, string> { [SearchToDeploy.Core.Distributed.MpiGradientSync.TimeoutVariable] = "4" });
        Assert.NotEqual(0, code);
        Assert.Contains("waited 4 s for the other ranks (one died or hangs); aborting the job", output);
    }

    [Fact]
    public void Data_parallel_search_keeps_alpha_identical_on_every_rank()
    {
        using var dir = new TempDir();
        var (code, output) = MpiRun(2, ["search", "--space", "nas-bench-201", "--method", "rf-pcdarts", "--preset", "smoke", "--epochs", "1",
            "--max-images", "128", "--valid-images", "64", "--batch-size", "32", "--threads", "1", "--workers", "0", "--out", dir["s"]]);
        Assert.True(code == 0, output);
        Assert.Contains("data-parallel: 2 MPI ranks", output);
        Assert.True(File.Exists(dir["s/genotype.json"]));
        using var summary = JsonDocument.Parse(File.ReadAllText(dir["s/summary.json"]));
        Assert.Equal(2, summary.RootElement.GetProperty("ranks").GetInt32());
    }

    [Fact]
    public void A_batch_the_ranks_cannot_share_equally_is_bad_input()
    {
        using var dir = new TempDir();
        var (code, output) = MpiRun(2, TinyTrain(dir["odd"], 1, batch: 33));
        Assert.NotEqual(0, code);
        Assert.Contains("--batch-size 33: expected a multiple of the 2 ranks", output);
    }

    [Fact]
    public void The_pipeline_runs_its_search_stage_as_an_mpi_job_and_knows_it_is_up_to_date()
    {
        using var dir = new TempDir();
        string[] args = ["pipeline", "--profile", "smoke", "--stage", "search", "--ranks", "2", "--runs", dir["runs"], "--models", dir["models"],
            "--set", "search.epochs=1;search.max-images=64;search.valid-images=32;search.batch-size=32", "--threads", "1"];
        var first = Run(S2d, args, env: new Dictionary<string, string> { ["OMPI_MCA_rmaps_base_oversubscribe"] = "1" });
        Assert.True(first.Code == 0, first.Output);
        Assert.Contains("[search] 2 MPI ranks: mpirun -np 2 ", first.Output);
        Assert.Contains("data-parallel: 2 MPI ranks", first.Output);
        Assert.True(File.Exists(dir["runs/smoke/search/genotype.json"]));
        Assert.Contains("up to date", Run(S2d, args).Output);

        var bad = Run(S2d, [.. args, "--launcher", "mpirun -np 2"]);
        Assert.Equal(2, bad.Code);
        Assert.Contains("--launcher 'mpirun -np 2': expected a command with {ranks}", bad.Output);
    }

    [Fact]
    public void Rank_shards_of_a_batch_together_are_the_one_process_batch()
    {
        var data = DatasetRef.Resolve("cifar10", TestPaths.DataRoot).Open(Split.Test);
        var tf = CifarTransform.Train(Normalization.Cifar10, cutout: 8);
        int[] some = [.. Enumerable.Range(0, 64)];
        var one = new DataLoader(data, some, tf, new LoaderOptions(16, true, 5, DropLast: true, Workers: 0)).Epoch(1).First();
        var shards = Enumerable.Range(0, 4).Select(r => new DataLoader(data, some, tf, new LoaderOptions(16, true, 5, DropLast: true, Workers: 0, Rank: r, Ranks: 4)).Epoch(1).First()).ToList();
        Assert.All(shards, s => Assert.Equal(4, s.Count));
        Assert.Equal(one.Labels, shards.SelectMany(s => s.Labels));
        Assert.Equal(one.Images.ToArray(), shards.SelectMany(s => s.Images.ToArray()));
        Assert.Throws<InputException>(() => new DataLoader(data, some, tf, new LoaderOptions(18, true, 5, DropLast: true, Rank: 0, Ranks: 4)));
    }

    [Fact]
    public void A_sweep_runs_every_combination_as_a_resumable_search_and_reports_them()
    {
        using var dir = new TempDir();
        string[] args = ["sweep", "--methods", "rf-pcdarts,pc-darts", "--spaces", "nas-bench-201", "--presets", "smoke", "--seeds", "0-1",
            "--set", "epochs=1", "--set", "max-images=64", "--set", "valid-images=32", "--set", "batch-size=32", "--out", dir["sw"], "--jobs", "2"];
        // Run inside a Slurm step of several tasks: the searches it starts are processes of their own, not its step's tasks.
        var (code, output) = Run(S2d, args, env: new Dictionary<string, string> { ["SLURM_STEP_NUM_TASKS"] = "4" });
        Assert.True(code == 0, output);
        Assert.Contains("4 of 4 searches finished", output);
        Assert.Contains("| rf-pcdarts | nas-bench-201 | cifar10 | smoke | 0, 1 |", output);
        Assert.Contains("| pc-darts | nas-bench-201 | cifar10 | smoke | 0, 1 |", output);
        foreach (string m in new[] { "rf-pcdarts", "pc-darts" })
            foreach (int s in new[] { 0, 1 })
                Assert.True(File.Exists(dir[$"sw/{m}-nas-bench-201-cifar10-smoke-s{s}/genotype.json"]));

        // Again: nothing to run; another plan in the same folder is refused.
        var again = Run(S2d, args);
        Assert.True(again.Code == 0, again.Output);
        Assert.Contains("4 finished already, 0 to run", again.Output);
        var other = Run(S2d, [.. args.Select(a => a == "0-1" ? "0-2" : a)]);
        Assert.Equal(2, other.Code);
        Assert.Contains("holds another sweep", other.Output);

        var report = Run(S2d, ["sweep", "report", dir["sw"], "--output", dir["report.md"]]);
        Assert.True(report.Code == 0, report.Output);
        Assert.Contains("NB201 CIFAR-10 test %", File.ReadAllText(dir["report.md"]));
    }

    [Fact]
    public void A_launcher_is_split_into_words_as_a_shell_splits_it()
    {
        Assert.Equal(["mpirun", "-np", "4", "--mca", "btl", "^openib", "-x", "A=b c", "--tag", "it's"],
            SearchToDeploy.Pipeline.MpiStage.Launcher("mpirun  -np {ranks} --mca btl '^openib' -x \"A=b c\" --tag it\\'s", 4));
        var e = Assert.Throws<InputException>(() => SearchToDeploy.Pipeline.MpiStage.Launcher("srun -n {ranks} --comment 'open", 2));
        Assert.Contains("quote is not closed", e.Message);
    }

    [Fact]
    public void A_sweep_refuses_two_spellings_of_one_run_and_gives_slurm_tasks_the_threads_asked_for()
    {
        foreach (var (spaces, datasets) in new[] { (new[] { "nas-bench-201", "nb201" }, new[] { "cifar10" }), (["nas-bench-201"], ["cifar10", "cifar-10"]) })
        {
            var e = Assert.Throws<InputException>(() => SweepPlan.Create(["rf-pcdarts"], spaces, datasets, ["smoke"], [0], [], TestPaths.DataRoot));
            Assert.Contains("rf-pcdarts-nas-bench-201-cifar10-smoke-s0 2 times", e.Message);
        }
        var plan = SweepPlan.Create(["rf-pcdarts"], ["nas-bench-201"], ["cifar10"], ["smoke"], [0], [], TestPaths.DataRoot);
        Assert.Contains("--threads 2\n", SlurmScript.Create(plan, "/tmp/sw", TestPaths.DataRoot, ["s2d"], 4, 0, [], threads: 2).ReplaceLineEndings("\n"));

        // Writing the plan again (to continue the sweep) leaves the run folders' temporary files alone: their writer may
        // be an array task on another node, whose process id means nothing here.
        using var dir = new TempDir();
        plan.Write(dir.Path);
        string writing = Path.Combine(dir.Path, plan.Runs[0].Name, $".checkpoint.s2d.{int.MaxValue}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(writing, "an array task on another node is writing this");
        plan.Write(dir.Path);
        Assert.True(File.Exists(writing));
    }

    [Fact]
    public void The_slurm_array_script_runs_each_combination_as_its_own_task()
    {
        using var dir = new TempDir();
        var (code, output) = Run(S2d, ["sweep", "--methods", "rf-darts", "--spaces", "nas-bench-201", "--presets", "smoke", "--seeds", "3,5",
            "--set", "epochs=1", "--set", "max-images=64", "--set", "valid-images=32", "--set", "batch-size=32", "--out", dir["sw"], "--slurm",
            "--cpus-per-task", "1", "--max-concurrent", "1", "--sbatch=--time=00:30:00"]);
        Assert.True(code == 0, output);
        string script = File.ReadAllText(dir["sw/sweep.sbatch"]);
        Assert.Contains("#SBATCH --array=0-1%1", script);
        Assert.Contains("#SBATCH --requeue", script);
        Assert.Contains("#SBATCH --time=00:30:00", script);
        Assert.Contains("--threads \"${SLURM_CPUS_PER_TASK:-1}\"", script);
        // Not under Slurm here: run task 1 as Slurm would, with its array index.
        var task = Run("bash", [dir["sw/sweep.sbatch"]], TimeSpan.FromMinutes(3), env: new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "1", ["SLURM_CPUS_PER_TASK"] = "1" });
        Assert.True(task.Code == 0, task.Output);
        Assert.True(File.Exists(dir["sw/rf-darts-nas-bench-201-cifar10-smoke-s5/summary.json"]));
        Assert.False(File.Exists(dir["sw/rf-darts-nas-bench-201-cifar10-smoke-s3/summary.json"]));
        Assert.Contains("1 of 2 searches finished", Run(S2d, ["sweep", "report", dir["sw"]]).Output);
    }

    [Fact]
    public void A_sweep_runs_as_a_slurm_job_array()
    {
        using var dir = new TempDir();
        var (code, output) = Run(S2d, ["sweep", "--methods", "rf-pcdarts", "--spaces", "nas-bench-201", "--presets", "smoke", "--seeds", "0-1",
            "--set", "epochs=1", "--set", "max-images=64", "--set", "valid-images=32", "--set", "batch-size=32", "--out", dir["sw"], "--slurm",
            "--cpus-per-task", "1"]);
        Assert.True(code == 0, output);
        // A one-node Slurm (CI starts one with scripts/slurm-one-node.sh up): submit the array and wait for it.
        (int Code, string Output) submit;
        try { submit = Run("sbatch", ["--wait", "--parsable", "--job-name", $"s2d-test-{Path.GetFileName(dir.Path)}", dir["sw/sweep.sbatch"]], TimeSpan.FromMinutes(5)); }
        catch (TimeoutException)
        {
            // The array is Slurm's, not sbatch's child: cancel it, or it runs on against a deleted folder.
            Run("scancel", ["--name", $"s2d-test-{Path.GetFileName(dir.Path)}"], TimeSpan.FromSeconds(30));
            throw;
        }
        Assert.True(submit.Code == 0, $"sbatch: {submit.Output} (is Slurm running? scripts/slurm-one-node.sh up starts a one-node cluster)");
        foreach (int s in new[] { 0, 1 })
            Assert.True(File.Exists(dir[$"sw/rf-pcdarts-nas-bench-201-cifar10-smoke-s{s}/summary.json"]), string.Join("\n", Directory.GetFiles(dir["sw"])));
        Assert.Equal(2, Directory.GetFiles(dir["sw"], "slurm-*_*.out").Length);
        Assert.Contains("2 of 2 searches finished", Run(S2d, ["sweep", "report", dir["sw"]]).Output);
    }

    /// <summary>The pid of the given rank among mpirun's children (by the rank Open MPI puts in each one's environment).</summary>
    private static int RankProcess(int mpirun, int rank)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            foreach (string d in Directory.GetDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(d), out int pid)) continue;
                try
                {
                    string env = File.ReadAllText(Path.Combine(d, "environ"));
                    if (env.Contains($"OMPI_COMM_WORLD_RANK={rank}\0") && env.Contains($"S2D_DATA_ROOT=") && IsDescendant(pid, mpirun)) return pid;
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            Thread.Sleep(100);
        }
        throw new TimeoutException($"rank {rank} of mpirun {mpirun} not found");
    }

    private static bool IsDescendant(int pid, int ancestor)
    {
        for (int i = 0; i < 10 && pid > 1; i++)
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            pid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
            if (pid == ancestor) return true;
        }
        return false;
    }

    /// <summary>Each epoch's losses and accuracies (metrics.csv without its times).</summary>
    private static string Metrics(string runDir) =>
        string.Join("\n", File.ReadAllLines(Path.Combine(runDir, "metrics.csv")).Select(l => string.Join(',', l.Split(',')[..8])));
}
