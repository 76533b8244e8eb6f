// Search: s2d search with the chosen space, method and preset into runs/<run>/search.
// Arguments: --space (nas-bench-201), --method (rf-pcdarts), --preset (cpu), --seed (2), --run (search-<space>-<method>),
// --search-args (anything else, passed through to s2d search).

Task("Search")
    .IsDependentOn("Build")
    .Does(() =>
{
    string space = Argument("space", "nas-bench-201");
    string method = Argument("method", "rf-pcdarts");
    string preset = Argument("preset", "cpu");
    string seed = Argument("seed", "2");
    string run = Argument("run", $"search-{space}-{method}");
    string extra = Argument("search-args", "");
    string root = MakeAbsolute(Directory(Parameters.DataRoot)).FullPath;
    string outDir = MakeAbsolute(Directory($"runs/{run}/search")).FullPath;
    bool resume = System.IO.File.Exists($"{outDir}/checkpoint.s2d");
    int code = S2d(Context, $"search --space {space} --method {method} --preset {preset} --seed {seed} --data-root \"{root}\" --out \"{outDir}\"{(resume ? " --resume" : "")} {extra}");
    if (code != 0) throw new Exception($"s2d search failed (exit code {code})");
});
