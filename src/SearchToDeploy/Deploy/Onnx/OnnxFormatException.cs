
namespace SearchToDeploy.Deploy.Onnx;

/// <summary>A file that is not a readable ONNX model (missing, truncated, or some other format). The message names the file.</summary>
public sealed class OnnxFormatException : InputException
{
    public OnnxFormatException(string message) : base(message) { }
    public OnnxFormatException(string message, Exception inner) : base(message, inner) { }
}
