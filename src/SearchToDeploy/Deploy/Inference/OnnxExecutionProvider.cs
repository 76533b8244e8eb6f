
namespace SearchToDeploy.Deploy.Inference;

/// <summary>Where ONNX Runtime runs a model: CUDA if it works else CPU (Auto), CUDA only, or CPU only.</summary>
public enum OnnxExecutionProvider
{
    Auto,
    Cuda,
    Cpu,
}
