using SearchToDeploy.Data.Transforms;
using SearchToDeploy.Deploy.Onnx;
using SearchToDeploy.Nas.Architectures;

namespace SearchToDeploy.Tests.Deploy;

/// <summary>A model's metadata is one typed value, checked once: every inconsistency is named with its key.</summary>
public sealed class ModelMetadataTests
{
    private static Dictionary<string, string> Good() => new ModelMetadata(["cat", "dog"], new EvalPreprocessing(32, 0, [0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f]),
        GenotypeDocument.Of(Architecture.ParseText(KnownGenotypes.Nb201Best)), "nb201", "cifar10", "{}", "folded", "s2d").ToDictionary();

    [Fact]
    public void Written_metadata_reads_back_as_the_same_value()
    {
        var back = ModelMetadata.Parse(Good(), "m.onnx");
        Assert.Equal(["cat", "dog"], back.Classes);
        Assert.Equal(32, back.Preprocessing.InputSize);
        Assert.Equal(KnownGenotypes.Nb201Best, back.Architecture.Text);
        Assert.Equal(Good(), back.ToDictionary());
    }

    [Theory]
    [InlineData(ModelMetadata.Keys.InputSize, "0", "input size 0: expected 8 to 4096 pixels")]
    [InlineData(ModelMetadata.Keys.InputSize, "60000", "input size 60000: expected 8 to 4096 pixels")]
    [InlineData(ModelMetadata.Keys.InputSize, "big", "'s2d.input_size' is 'big'; expected a whole number")]
    [InlineData(ModelMetadata.Keys.Mean, "[0.5, 0.5]", "mean [0.5, 0.5]: expected 3 finite numbers")]
    [InlineData(ModelMetadata.Keys.Std, "[0, 0, 0]", "std [0, 0, 0]: expected 3 positive numbers")]
    [InlineData(ModelMetadata.Keys.Std, "\"x\"", "'s2d.std' is '\"x\"'; expected a JSON list of 3 numbers")]
    [InlineData(ModelMetadata.Keys.ResizeShorter, "16", "resize-shorter 16: expected 0 (no resize) or at least the input size 32")]
    [InlineData(ModelMetadata.Keys.Classes, "[]", "must list at least one non-empty class name")]
    [InlineData(ModelMetadata.Keys.Metrics, "[1]", "'s2d.metrics' is not a JSON object")]
    public void Inconsistent_metadata_is_refused_naming_the_file_and_what_is_wrong(string key, string value, string message)
    {
        var meta = Good();
        meta[key] = value;
        var e = Assert.Throws<OnnxFormatException>(() => ModelMetadata.Parse(meta, "models/x/model.onnx"));
        Assert.StartsWith("models/x/model.onnx: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_missing_key_is_named()
    {
        var meta = Good();
        meta.Remove(ModelMetadata.Keys.Classes);
        Assert.Contains("without the 's2d.classes' metadata", Assert.Throws<OnnxFormatException>(() => ModelMetadata.Parse(meta, "m.onnx")).Message);
    }
}
