using System.Text.Json;
using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Nas.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace SearchToDeploy.Runs.Training;

/// <summary>A trained evaluation network loaded from a run's checkpoint, in evaluation mode.</summary>
public sealed class TrainedModel(RetrainNetwork network, TrainHeader header) : IDisposable
{
    public RetrainNetwork Network { get; } = network;
    public TrainHeader Header { get; } = header;

    /// <summary>Loads a checkpoint file, or a run folder's best checkpoint (else its last).</summary>
    public static TrainedModel Load(string runOrCheckpoint)
    {
        string path = runOrCheckpoint;
        if (Directory.Exists(runOrCheckpoint))
        {
            path = new[] { TrainRunFolder.Best, TrainRunFolder.Last }.Select(n => Path.Combine(runOrCheckpoint, n)).FirstOrDefault(File.Exists)
                   ?? throw new InputException($"{runOrCheckpoint}: no {TrainRunFolder.Best} or {TrainRunFolder.Last}; expected a training run folder (s2d train --out)");
        }
        else if (!File.Exists(path)) throw new InputException($"{path}: no such training run folder or checkpoint");
        var (json, tensors) = CheckpointFile.Load(path);
        try
        {
            var header = ReadHeader(path, json);
            var net = NetworkFactory.Create(header.ParseArchitecture(), header.NetworkConfig);
            LoadWeights(path, net, tensors);
            net.eval();
            return new TrainedModel(net, header);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    internal static TrainHeader ReadHeader(string path, string json)
    {
        TrainHeader? h;
        try { h = JsonSerializer.Deserialize<TrainHeader>(json, TrainHeader.Json); }
        catch (JsonException e) { throw new InputException($"{path}: not a training checkpoint ({e.Message})"); }
        if (h is null || h.Architecture.Length == 0 || h.Classes.Count == 0)
            throw new InputException($"{path}: not a training checkpoint (a search checkpoint? expected the best.s2d or last.s2d of s2d train)");
        return h;
    }

    internal static void LoadWeights(string path, RetrainNetwork net, IReadOnlyDictionary<string, Tensor> tensors) =>
        CheckpointFile.LoadModel(path, net, tensors, "the network its header describes");

    public void Dispose() => Network.Dispose();
}
