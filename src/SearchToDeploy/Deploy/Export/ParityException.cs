using static TorchSharp.torch;

namespace SearchToDeploy.Deploy.Export;

/// <summary>The ONNX model's logits differ from the TorchSharp model's by more than the tolerance; nothing was written.</summary>
public sealed class ParityException(string message) : Exception(message);
