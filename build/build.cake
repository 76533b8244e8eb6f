// Restore, Build, Test: the solution with the chosen backends. Test is the README's test command.

Task("Restore")
    .Does(() => DotNetRestore("SearchToDeploy.sln", new DotNetRestoreSettings { MSBuildSettings = Parameters.MSBuild() }));

Task("Build")
    .IsDependentOn("Restore")
    .Does(() => DotNetBuild("SearchToDeploy.sln", new DotNetBuildSettings
    {
        Configuration = Parameters.Configuration,
        NoRestore = true,
        MSBuildSettings = Parameters.MSBuild(),
    }));

Task("Test")
    .IsDependentOn("Build")
    .Does(() =>
{
    // The tests read real data: say at once what is missing and how to get it, rather than failing test by test.
    string dataRoot = MakeAbsolute(Directory(Parameters.DataRoot)).FullPath;
    var missing = new (string Path, string HowToGet)[]
    {
        ("cifar-10-batches-bin/test_batch.bin", "dotnet cake --target=Data --dataset=cifar10 (downloads the official archive and checks its MD5)"),
        ("imagenette-64/val|imagenette2-160/val|imagenette2-320/val|imagenette2/val", "dotnet cake --target=Data --dataset=imagenette (the official 160-px archive, checked against the published split), or Imagenette at 64 px from the team's shared data folder"),
        ("imagenet-sample/val", "one ILSVRC-2012 image per class (val/<wnid>/*.JPEG and synsets.txt): the team's shared data folder, or build one as README.md, Data, describes"),
        ("nas-bench-201/accuracy.tsv", "the NAS-Bench-201 accuracy table: the team's shared data folder, or write it from NATS-Bench in the format README.md, Data, gives"),
    }.Where(d => !d.Path.Split('|').Any(p => System.IO.File.Exists(System.IO.Path.Combine(dataRoot, p)) || System.IO.Directory.Exists(System.IO.Path.Combine(dataRoot, p)))).ToList();
    if (missing.Count > 0)
        throw new Exception($"the tests read real data from the data root {dataRoot} (--data-root or S2D_DATA_ROOT), which lacks:\n" +
            string.Join("\n", missing.Select(d => $"  {d.Path.Replace("|", " or ")}: {d.HowToGet}")));

    // Besides s2d, some tests run the ONNX project's checker, mpirun, a one-node Slurm, g++ and xz (.ci/run installs them).
    bool Runs(string command) => StartProcess("sh", new ProcessSettings
        { Arguments = $"-c \"{command}\"", RedirectStandardOutput = true, RedirectStandardError = true }) == 0;
    var tools = new (string Check, string Packages)[]
    {
        ("/usr/bin/python3 -c 'import onnx'", "python3-onnx"),
        ("command -v mpirun && /sbin/ldconfig -p | grep -q libmpi.so.40", "openmpi-bin libopenmpi-dev"),
        ("command -v g++", "g++"),
        ("command -v xz", "xz-utils"),
        ("test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
        ("command -v sbatch && { command -v munged || test -x /usr/sbin/munged; }", "slurmctld slurmd slurm-client munge"),
    }.Where(t => !Runs(t.Check)).Select(t => t.Packages).ToList();
    // Said before the run, not in its way: only the tests that use a missing tool fail.
    if (tools.Count > 0)
        Warning("the tests that run these tools will fail; install them with\n" +
            $"  sudo apt-get install {string.Join(" ", tools)}\nthen start a one-node Slurm with: sudo scripts/slurm-one-node.sh up (.ci/run does all of this)");
    else if (!Runs("scontrol ping | grep -q UP"))
        Warning("no Slurm controller answers, so the job-array test will fail: start a one-node cluster with: sudo scripts/slurm-one-node.sh up");

    var results = MakeAbsolute(Directory($"{Parameters.Artifacts}/test-results"));
    CleanDirectory(results);
    var settings = new DotNetTestSettings
    {
        Configuration = Parameters.Configuration,
        NoBuild = true,
        NoRestore = true,
        Loggers = { "trx;LogFileName=tests.trx", "console;verbosity=normal" },
        // A test that hangs (a native call that never returns) ends the run with a dump and its name, not CI's timeout
        // with no result; the longest test takes a few minutes.
        ArgumentCustomization = args => args.Append("--blame-hang-timeout 20m"),
        ResultsDirectory = results,
        MSBuildSettings = Parameters.MSBuild(),
        EnvironmentVariables = { ["S2D_DATA_ROOT"] = dataRoot },
    };
    Exception failure = null;
    try { DotNetTest("SearchToDeploy.sln", settings); }
    catch (Exception e) { failure = e; }

    var trx = GetFiles($"{results}/**/*.trx").FirstOrDefault();
    if (trx is null) throw failure ?? new Exception("no test results were written");
    var counters = System.Xml.Linq.XDocument.Load(trx.FullPath).Descendants().First(e => e.Name.LocalName == "Counters");
    int passed = int.Parse(counters.Attribute("passed").Value);
    int failed = int.Parse(counters.Attribute("failed").Value) + int.Parse(counters.Attribute("error")?.Value ?? "0");
    // A crashed test host leaves a trx with only the tests that finished: count the aborted run as a failure.
    if (failure is not null && failed == 0) { Error("the test run did not finish (test host crashed?): counted as 1 failed"); failed = 1; }
    string summary = $"{passed} passed, {failed} failed";
    System.IO.File.WriteAllText($"{results}/summary.txt", summary + "\n");
    Information(summary);
    if (failure is not null) throw failure;
});
