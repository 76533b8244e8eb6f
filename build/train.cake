// Train: s2d train of a searched cell into runs/<run>/train.
// Arguments: --run (the run whose search/genotype.json is trained; default search-nas-bench-201-rf-pcdarts),
// --genotype (a genotype file or string instead), --dataset (cifar10), --data (imagenet/imagefolder folder),
// --train-preset (cpu), --train-args (anything else, passed through to s2d train).

Task("Train")
    .IsDependentOn("Build")
    .Does(() =>
{
    string run = Argument("run", "search-nas-bench-201-rf-pcdarts");
    string genotype = Argument("genotype", MakeAbsolute(File($"runs/{run}/search/genotype.json")).FullPath);
    string preset = Argument("train-preset", "cpu");
    string data = Argument("data", "");
    string extra = Argument("train-args", "");
    string root = MakeAbsolute(Directory(Parameters.DataRoot)).FullPath;
    string outDir = MakeAbsolute(Directory($"runs/{run}/train")).FullPath;
    bool resume = System.IO.File.Exists($"{outDir}/last.s2d");
    string dataArg = data == "" ? "" : $" --data \"{MakeAbsolute(Directory(data)).FullPath}\"";
    int code = S2d(Context, $"train --genotype \"{genotype}\" --dataset {Parameters.Dataset} --preset {preset} --data-root \"{root}\"{dataArg} --out \"{outDir}\"{(resume ? " --resume" : "")} {extra}");
    if (code != 0) throw new Exception($"s2d train failed (exit code {code})");
});
