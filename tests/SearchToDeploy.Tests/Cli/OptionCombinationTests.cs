namespace SearchToDeploy.Tests.Cli;

/// <summary>
/// Options that contradict each other, or mean something only beside another option: exit code 2 and a message naming
/// them, before anything runs, instead of one of them silently doing nothing.
/// </summary>
public sealed class OptionCombinationTests
{
    [Theory]
    [InlineData("search --out r --resume --force", "--resume and --force")]
    [InlineData("train --genotype darts-v2 --out r --resume --force", "--resume and --force")]
    [InlineData("data info --dataset cifar10 --data d", "--data d: applies to imagenet, imagenette and imagefolder; cifar10 is read from its folder under --data-root")]
    [InlineData("bench serve --image x.jpg --server-pid 1", "--server-pid: applies only with --soak")]
    [InlineData("bench serve --image x.jpg --max-bytes 5", "--max-bytes: applies only with --soak")]
    [InlineData("bench train --channels 8", "--channels: applies only with --network")]
    [InlineData("bench train --aux", "--aux: applies only with --network")]
    [InlineData("sweep --out s --cpus-per-task 2", "--cpus-per-task: applies only with --slurm")]
    [InlineData("sweep --out s --slurm --jobs 2", "--jobs: applies without --slurm")]
    [InlineData("sweep --out s --set seed=5", "--set seed=5: each search's seed comes from --seeds")]
    [InlineData("pipeline --stage search --profile nb201 --imagenet d", "--imagenet: --profile nb201 does not retrain on ImageNet")]
    [InlineData("pipeline --stage search --profile smoke --imagenet d", "--imagenet: --profile smoke does not retrain on ImageNet")]
    [InlineData("pipeline --stage search --profile paper --imagenet d --transfer t", "--transfer: --profile paper retrains on the ImageNet of --imagenet")]
    [InlineData("pipeline --stage search --profile imagenet --imagenet d --transfer t", "--imagenet and --transfer")]
    [InlineData("validate --model m.onnx --dataset cifar10 --report .", "--report .: is a folder; expected the path of a file to write")]
    [InlineData("report runs --runs r --out .", "--output .: is a folder")] // --out: the other spelling of --output
    [InlineData("predict --model m.onnx --input x --batch-size 0", "--batch 0: expected a batch size of 1 or more")] // --batch-size: the other spelling of --batch
    [InlineData("predict --model m.onnx --input x --top 0", "--top 0: expected 1 or more classes")]
    [InlineData("predict --model m.onnx --input x --output .", "--out .: is a folder")] // --output: the other spelling of a file's --out
    [InlineData("search --space darts --layers 2 --out r", "--layers 2: a darts supernet needs 3 or more cells")]
    [InlineData("train --genotype nb201-best --drop-path 0.2 --out r", "--drop-path 0.2: the NAS-Bench-201 network has no drop-path")]
    [InlineData("search --space nas-bench-201 --nodes 3 --out r", "--nodes 3: NAS-Bench-201 cells have 4 nodes")]
    public void A_contradicting_or_orphan_option_is_bad_input_naming_it(string command, string message) =>
        CliTests.AssertBadInputWritingNothing(command, message);
    [Fact]
    public void A_task_of_a_slurm_step_without_pmi_is_refused_instead_of_running_alone()
    {
        // srun -n 4 without --mpi=pmix where Slurm's default is none: four tasks, each one process of one.
        using var dir = new TempDir();
        Environment.SetEnvironmentVariable("SLURM_STEP_NUM_TASKS", "4");
        try
        {
            using (dir.AsWorkingDirectory())
            {
                var (code, _, err) = CliTests.Run("search", "--out", "r", "--preset", "smoke");
                Assert.Equal(2, code);
                Assert.Contains("one of 4 tasks of a Slurm step (SLURM_STEP_NUM_TASKS=4)", err);
                Assert.Contains("srun --mpi=pmix", err);
            }
        }
        finally { Environment.SetEnvironmentVariable("SLURM_STEP_NUM_TASKS", null); }
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }
    [Fact]
    public void Validating_a_packaged_model_needs_a_report_path_of_its_own()
    {
        using var dir = new TempDir();
        SearchToDeploy.Runs.RunFolder.Prepare(dir["models/m"], "package", clear: false);
        File.WriteAllText(dir["models/m/validation.json"], "the package's own report");
        File.WriteAllText(dir["models/m/model.onnx"], "a model");
        var (code, _, err) = CliTests.Run("validate", "--model", dir["models/m/model.onnx"], "--dataset", "cifar10");
        Assert.Equal(2, code);
        Assert.Contains("is a packaged model", err);
        Assert.Equal("the package's own report", File.ReadAllText(dir["models/m/validation.json"]));
    }
}
