using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Deploy.Validation;
using SearchToDeploy.Nas.Architectures;

namespace SearchToDeploy.Pipeline;

/// <summary>The files of a packaged model, models/&lt;run&gt;/; their names are written here and nowhere else.</summary>
public sealed record PackageFolder(string Dir)
{
    public const string Model = OnnxModelFile.DefaultName, Validation = ValidationReport.FileName, Genotype = GenotypeFile.FileName, Card = "README.md",
        TrainingCurves = "training_curves.png", SearchCurves = "search_curves.png", Metrics = "metrics.json";

    public string this[string file] => Path.Combine(Dir, file);

    /// <summary>A package of a build before run-folder markers: its model and validation report.</summary>
    public static bool IsPackage(string dir) =>
        File.Exists(Path.Combine(dir, Model)) && Runs.RunFolder.HasJsonProperty(Path.Combine(dir, Validation), "top1");
}
