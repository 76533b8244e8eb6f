
namespace SearchToDeploy.Deploy.Validation;

public sealed record ClassAccuracy(string Label, int Images, double Top1);
