// Data: verify the dataset in the data root, downloading it first where that is allowed (CIFAR-10/100, SVHN, Imagenette).

Task("Data")
    .IsDependentOn("Build")
    .Does(() =>
{
    string root = MakeAbsolute(Directory(Parameters.DataRoot)).FullPath;
    string common = $"--dataset {Parameters.Dataset} --data-root \"{root}\"";
    // The names s2d takes for the downloadable datasets (cifar-10 as cifar10, any letter case).
    string dataset = Parameters.Dataset.ToLowerInvariant().Replace("-", "");
    if (dataset is "cifar10" or "cifar100" or "svhn" or "imagenette")
    {
        int download = S2d(Context, $"data download {common}");
        if (download != 0) throw new Exception($"s2d data download failed (exit code {download})");
    }
    else Information($"{Parameters.Dataset}: not downloadable (ImageNet and image folders are never downloaded); verifying what the data root holds");
    int verify = S2d(Context, $"data verify {common}");
    if (verify != 0) throw new Exception($"s2d data verify found problems (exit code {verify})");
});
