// The Deploy chain: Search -> Train -> Export -> Validate -> Package, each a thin call of `s2d pipeline --stage <stage>`.
// Each stage works in runs/<run>/<stage>/ with a manifest and is skipped when up to date; an interrupted one resumes.
// Arguments: --profile (imagenet | nb201 | smoke | paper), --run (default: the profile's name and what sets the chain apart; see README), --data-root, --imagenet
// (the full ImageNet: paper, or imagenet at 224 px), --transfer (retrain on an image folder instead of the profile's data), --gate-top1, --gate-top5, --force, --threads,
// --space / --method / --seed (search other than the profile's RF-PCDARTS), --parallel-steps (faster search on 2+ cores),
// --set (search.<key>=<value>;train.<key>=<value>: any setting of s2d search / s2d train, e.g. --set=train.epochs=30),
// --derive-without-none (NAS-Bench-201: the searched cell from the ops other than none), --precision (fp32 | bf16:
// the search's activations),
// --device (auto | cpu | cuda | cuda:N: where search and training run), the backend switches --torch / --ort, and
// --ranks / --launcher (Search and Train as MPI jobs of that many processes, started by 'mpirun -np {ranks}' or yours),
// --config (a JSON or YAML settings file of these arguments, with search and train objects; the command line overrides it).

string PipelineArgs(string stage)
{
    string Opt(string name) => HasArgument(name) ? $" --{name} \"{Argument<string>(name)}\"" : "";
    // A switch is on when given bare or =true, off when =false (Cake reads a bare --force as no boolean value).
    string Flag(string name) => HasArgument(name) && !string.Equals(Argument<string>(name, ""), "false", StringComparison.OrdinalIgnoreCase) ? $" --{name}" : "";
    // --set may be repeated: every one goes through, joined as s2d reads them (;-separated).
    string settings = HasArgument("set") ? $" --set \"{string.Join(";", Arguments<string>("set"))}\"" : "";
    string Path(string name) => HasArgument(name) ? $" --{name} \"{MakeAbsolute(Directory(Argument<string>(name))).FullPath}\"" : "";
    // Only what is given goes through, so that a --config file's settings hold where the command line is silent.
    // S2D_DATA_ROOT is not passed on: s2d reads it itself where neither the command line nor the --config file names one.
    string dataRoot = HasArgument("data-root") ? $" --data-root \"{MakeAbsolute(Directory(Parameters.DataRoot)).FullPath}\"" : "";
    string config = HasArgument("config") ? $" --config \"{MakeAbsolute(File(Argument<string>("config"))).FullPath}\"" : "";
    return $"pipeline --stage {stage}" + Opt("profile") + dataRoot + config +
           Opt("run") + settings + Path("imagenet") + Path("transfer") + Opt("gate-top1") + Opt("gate-top5") + Opt("threads") + Opt("device") + Opt("space") + Opt("method") + Opt("seed") + Opt("precision") + Opt("ranks") + Opt("launcher") +
           Flag("force") + Flag("parallel-steps") + Flag("derive-without-none");
}

// Set when a stage stopped before its end (a training's stop-after, s2d exit code 4): the later stages are skipped and
// the target succeeds, so a time-limited job that made progress ends well; running the target again goes on.
bool stageStopped = false;

void Stage(string stage)
{
    int code = S2d(Context, PipelineArgs(stage));
    if (code == 3) throw new Exception($"the model is under its accuracy gate (s2d exit code 3): not deployed");
    if (code == 4)
    {
        stageStopped = true;
        Information($"the {stage} stage stopped before its end (stop-after): the later stages wait; run the target again to go on");
        return;
    }
    if (code != 0) throw new Exception($"s2d pipeline --stage {stage} failed (exit code {code})");
}

Task("Search").IsDependentOn("Build").WithCriteria(() => !stageStopped).Does(() => Stage("search"));
Task("Train").IsDependentOn("Search").WithCriteria(() => !stageStopped).Does(() => Stage("train"));
Task("Export").IsDependentOn("Train").WithCriteria(() => !stageStopped).Does(() => Stage("export"));
Task("Validate").IsDependentOn("Export").WithCriteria(() => !stageStopped).Does(() => Stage("validate"));
Task("Package").IsDependentOn("Validate").WithCriteria(() => !stageStopped).Does(() => Stage("package"));
Task("Deploy").IsDependentOn("Package");
