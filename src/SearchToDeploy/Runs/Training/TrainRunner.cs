using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Distributed;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Transforms;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Reporting;
using TorchSharp;
using DataLoader = SearchToDeploy.Data.DataLoader;
using static TorchSharp.torch;

namespace SearchToDeploy.Runs.Training;

/// <summary>
/// Trains an evaluation network built from a searched architecture into a run folder: per epoch SGD over the training
/// set (label smoothing, auxiliary loss, linearly ramped drop-path, gradient clipping), top-1/top-5 on the validation
/// split, then an atomic last checkpoint (weights, optimizer, history), the best checkpoint when top-1 improved, and
/// the regenerated logs and plots. Everything random in an epoch is a function of (seed, epoch), so a resumed run
/// continues bit-identically on CPU.
/// </summary>
public sealed class TrainRunner
{
    private readonly Compute _compute;

    private readonly TrainOptions _o;
    private readonly DatasetRef _dataset;
    private readonly Architecture _arch;
    private readonly GenotypeDocument _genotype;
    private readonly string _dir;
    private readonly TextWriter _log;

    /// <param name="genotype">The cell and its provenance (genotype.json); the training adds its own entry.</param>
    /// <param name="compute">Where torch runs and on how many threads (the caller resolves <see cref="TrainOptions.Device"/> and <see cref="TrainOptions.Threads"/>).</param>
    public TrainRunner(TrainOptions options, GenotypeDocument genotype, DatasetRef dataset, string runDir, TextWriter log, Compute compute)
    {
        options.Validate();
        _o = options; _genotype = genotype; _arch = genotype.Architecture; _dataset = dataset; _dir = Path.GetFullPath(runDir); _log = log;
        _compute = compute;
    }

    public TrainRunner(TrainOptions options, Architecture arch, DatasetRef dataset, string runDir, TextWriter log, Compute compute)
        : this(options, GenotypeDocument.Of(arch), dataset, runDir, log, compute) { }

    /// <summary>How gradients are averaged over the processes of a data-parallel run (default: one process).</summary>
    public IGradientSync Sync { get; init; } = IGradientSync.SingleProcess;

    public static string OptionsJson(TrainOptions o) => JsonSerializer.Serialize(o, TrainHeader.Json);

    /// <summary>
    /// A checkpoint's options as this build reads them. Runs of earlier builds recorded settings that did nothing and are
    /// now refused: a drop-path for the NAS-Bench-201 network (never applied), a --data for CIFAR or SVHN (read from the
    /// data root); they resume as what they trained.
    /// </summary>
    internal static TrainOptions AsThisBuildReads(TrainOptions o) =>
        o with
        {
            DropPath = RetrainNetwork.IsNb201(o.Network) ? 0 : o.DropPath,
            DataPath = DatasetRef.SavedPath(o.Dataset, o.DataPath),
        };

    /// <summary>The options and architecture of the run in <paramref name="runDir"/> from its last checkpoint, or null when it has none.</summary>
    public static (TrainOptions Options, GenotypeDocument Genotype)? Saved(string runDir)
    {
        string path = Path.Combine(runDir, TrainRunFolder.Last);
        if (!File.Exists(path)) return null;
        var header = TrainedModel.ReadHeader(path, CheckpointFile.LoadHeader(path));
        try
        {
            var o = JsonSerializer.Deserialize<TrainOptions>(header.Options, TrainHeader.Json) ?? throw new InputException($"{path}: its header holds no training options");
            return (AsThisBuildReads(o), header.GenotypeDocument(path));
        }
        catch (JsonException e)
        {
            throw new InputException($"{path}: its training options do not parse ({e.Message})");
        }
    }

    /// <summary>Runs (or continues) the training; returns the history of all epochs so far.</summary>
    public IReadOnlyList<TrainRecord> Run(bool resume, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(_dir);
        string last = Path.Combine(_dir, TrainRunFolder.Last), best = Path.Combine(_dir, TrainRunFolder.Best);
        if (File.Exists(last) && !resume)
            throw new InputException($"{_dir} already holds a training checkpoint; pass --resume to continue it or --force to start over");
        if (!File.Exists(last) && File.Exists(best))
            throw new InputException($"{_dir} holds a trained model ({TrainRunFolder.Best}) but not {TrainRunFolder.Last}, the checkpoint a run goes on from; " +
                                     "a new run would write over the model: pass --force to start over (the model is kept until the new run's first checkpoint), or choose another --out");
        Sync.CheckSettings(_o.BatchSize, parallelSteps: false);
        _compute.ApplyThreads();

        var train = _dataset.Open(Split.Train);
        var valid = _dataset.Open(Split.Test);
        if (!valid.Classes.SequenceEqual(train.Classes))
            throw new InputException($"{valid.Source}: its classes ({Describe(valid.Classes)}) are not those of {train.Source} ({Describe(train.Classes)}); " +
                                     "the validation split must have the same class folders as the training split");
        var (trainTf, evalTf, preprocessing) = Transforms();
        var trainIdx = Subsets.Random(train.Count, _o.MaxTrainImages, _o.Seed);
        var validIdx = Subsets.Stratified(valid, _o.MaxValidImages, _o.Seed);
        var trainLoader = new DataLoader(train, trainIdx, trainTf, Sync.Shard(new LoaderOptions(_o.BatchSize, true, _o.Seed, DropLast: true, Workers: _o.Workers)));
        var validLoader = new DataLoader(valid, validIdx, evalTf, Sync.Shard(new LoaderOptions(_o.EvalBatchSize, false, _o.Seed, Workers: _o.Workers)));
        if (trainLoader.BatchesPerEpoch == 0)
            throw new InputException($"{_dataset.Location}: {trainLoader.Count} training images are fewer than one batch of {_o.BatchSize}; lower --batch-size");

        TorchSeed.Set(_o.Seed);
        var cfg = new NetworkConfig(_o.Network, _o.Channels, _o.Layers, train.Classes.Count, _o.AuxWeight > 0);
        using var net = NetworkFactory.Create(_arch, cfg);
        var genotype = _genotype.With("train", Provenance(cfg, preprocessing, train.Count));
        var header = new TrainHeader
        {
            Architecture = _arch.Text, Space = _arch.Space, Network = cfg.Kind, Channels = cfg.Channels, Layers = cfg.Layers,
            Auxiliary = cfg.Auxiliary, Dataset = _dataset.Name, Classes = [.. train.Classes], InputSize = preprocessing.InputSize,
            ResizeShorter = preprocessing.ResizeShorter, Mean = preprocessing.Mean, Std = preprocessing.Std, Options = OptionsJson(_o),
            Genotype = genotype.ToJson(), Ranks = Sync.Size,
        };
        var size = CheckSize(net, trainTf.Height);
        net.to(_compute.Device); // before anything holds its parameters: moving replaces the Parameter objects
        var sgd = new Sgd([new ParamGroup([.. net.parameters()], _o.WeightDecay)], _o.Momentum, _o.Nesterov);
        var history = new List<TrainRecord>();
        if (File.Exists(last) && resume)
        {
            Resume(last, header, net, sgd, history);
            // Killed between its first last.s2d and best.s2d: the loaded epoch is the best so far, so it is the best model.
            if (Sync.IsMain && !File.Exists(best) && history.Count > 0 && history[^1].ValidTop1 >= history.Max(r => r.ValidTop1))
                Save(best, header with { EpochsDone = history.Count, History = history }, net, null);
            _log.WriteLine($"resumed {_dir} after epoch {history.Count - 1} ({history.Count}/{_o.Epochs} epochs done)");
        }
        else
        {
            if (resume) _log.WriteLine($"no checkpoint in {_dir}: starting from epoch 0");
            _log.WriteLine($"train: {RetrainNetwork.KindName(cfg.Kind)} network from {_arch.Space} cell {_arch.Text}");
            _log.WriteLine($"network: C={cfg.Channels}, {(RetrainNetwork.IsNb201(cfg.Kind) ? $"{cfg.Layers} cells per stage" : $"{cfg.Layers} cells")}, " +
                           $"{cfg.Classes} classes, auxiliary head {(cfg.Auxiliary ? $"on (weight {_o.AuxWeight})" : "off")}; {size.Describe()}; " +
                           _compute.ToString());
            _log.WriteLine($"data: {_dataset.Name}, {trainLoader.Count} training / {validLoader.Count} validation images at {trainTf.Height}x{trainTf.Width}; " +
                           $"{_o.Epochs} epochs of {trainLoader.BatchesPerEpoch} steps, batch {_o.BatchSize}, {_o.Schedule.ToString().ToLowerInvariant()} lr {_o.LearningRate}, seed {_o.Seed}, preset {_o.Preset}");
            if (Sync.Size > 1) _log.WriteLine($"data-parallel: {Sync.Size} MPI ranks, {_o.BatchSize / Sync.Size} images of each batch per rank");
        }
        // What ran, and what the next checkpoints record (on a resume: a moved data folder, its runtime settings), for a
        // person reading the folder; only now that a checkpoint to resume has been checked against these settings.
        if (Sync.IsMain) AtomicFile.WriteAllText(Path.Combine(_dir, CheckpointFile.OptionsFileName), OptionsJson(_o) + "\n");
        // Only now that a checkpoint to resume has been checked against this cell.
        if (Sync.IsMain) GenotypeFile.Save(Path.Combine(_dir, GenotypeFile.FileName), genotype);
        if (Sync.IsMain) CellDrawings.Draw(_dir, _arch);

        var watch = Stopwatch.StartNew();
        int start = history.Count, stopAt = _o.StopAfterEpochs > 0 ? Math.Min(_o.Epochs, start + _o.StopAfterEpochs) : _o.Epochs;
        var schedule = _o.LrSchedule;
        for (int epoch = start; epoch < stopAt; epoch++)
        {
            cancel.ThrowIfCancellationRequested();
            var record = RunEpoch(epoch, schedule.At(epoch), net, sgd, trainLoader, validLoader, cancel);
            if (!Gradients.AllFinite(net.parameters()))
                throw DivergedException.AfterEpoch(epoch, "network's weights", "training", 0, "Lower --lr or --grad-clip, or check the data.");
            bool improved = history.Count == 0 || record.ValidTop1 > history.Max(h => h.ValidTop1);
            history.Add(record);
            var h = header with { EpochsDone = epoch + 1, History = history };
            if (Sync.Report(trainLoader.BatchesPerEpoch * (epoch + 1 - start), history.Skip(start).Sum(r => r.Seconds)) is { } exchange) _log.WriteLine($"epoch {epoch}: {exchange}");
            double perEpoch = watch.Elapsed.TotalSeconds / (epoch + 1 - start);
            if (!Sync.IsMain) continue;
            // The best first where a last checkpoint exists: a run killed between the two redoes this epoch from it, and sees it
            // improve again. In a run's first epoch the last first: a best.s2d alone would be no checkpoint to go on from, and a
            // resume writes a best that a kill kept from being written (Resume).
            bool bestFirst = improved && File.Exists(last);
            if (bestFirst) Save(best, h, net, null);
            Save(last, h, net, sgd);
            if (improved && !bestFirst) Save(best, h, net, null);
            TrainArtifacts.Write(_dir, h, size, history);
            _log.WriteLine($"epoch {epoch}: checkpoint written{(improved ? " (new best)" : "")}; " +
                           $"{ProgressMeter.FormatDuration(TimeSpan.FromSeconds(perEpoch * (_o.Epochs - epoch - 1)))} left for {_o.Epochs - epoch - 1} epochs");
        }
        // A finished run resumed (killed after its last checkpoint, or its metrics deleted): its artifacts once more.
        if (start == _o.Epochs && history.Count > 0 && Sync.IsMain)
            TrainArtifacts.Write(_dir, header with { EpochsDone = history.Count, History = history }, size, history);
        if (history.Count == _o.Epochs)
        {
            var b = history.MaxBy(h => h.ValidTop1)!;
            _log.WriteLine(string.Format(CultureInfo.InvariantCulture, "training finished: final top-1 {0:0.00}% top-5 {1:0.00}%, best top-1 {2:0.00}% (epoch {3})",
                history[^1].ValidTop1, history[^1].ValidTop5, b.ValidTop1, b.Epoch));
        }
        return history;
    }

    /// <summary>
    /// The training augmentation, the evaluation transform of the training's own validation, and the evaluation
    /// preprocessing every later stage uses (for 32x32 datasets the same function: their images are already 32x32).
    /// </summary>
    internal (IImageTransform Train, IImageTransform Eval, EvalPreprocessing Preprocessing) Transforms()
    {
        var norm = _dataset.Normalization;
        if (_dataset.IsSmallImage) return (CifarTransform.Train(norm, _o.Cutout), CifarTransform.Eval(norm), new EvalPreprocessing(32, 0, norm.Mean, norm.Std));
        int size = _o.ImageSize, resize = size * 8 / 7;
        var jitter = new ColorJitter(_o.ColorJitter, _o.ColorJitter, _o.ColorJitter, _o.Hue);
        var eval = new EvalPreprocessing(size, resize, norm.Mean, norm.Std);
        return (new ImageNetTrainTransform(norm, size, jitter, _o.CropScaleMin), eval.Transform(), eval);
    }

    private static string Describe(IReadOnlyList<string> classes) =>
        classes.Count <= 6 ? string.Join(", ", classes) : $"{classes.Count} classes: {string.Join(", ", classes.Take(5))}, ...";

    /// <summary>The training's entry in the genotype's provenance (no times or paths: a rerun gives the same).</summary>
    private Dictionary<string, object?> Provenance(NetworkConfig cfg, EvalPreprocessing preprocessing, int images) => new()
    {
        ["network"] = RetrainNetwork.KindName(cfg.Kind),
        ["channels"] = cfg.Channels,
        ["layers"] = cfg.Layers,
        ["dataset"] = _dataset.Name,
        ["classes"] = cfg.Classes,
        ["training_images"] = images,
        ["image_size"] = preprocessing.InputSize,
        ["preset"] = _o.Preset,
        ["epochs"] = _o.Epochs,
        ["batch_size"] = _o.BatchSize,
        ["learning_rate"] = _o.LearningRate,
        ["schedule"] = _o.Schedule.ToString().ToLowerInvariant(),
        ["seed"] = _o.Seed,
        ["producer"] = $"s2d {typeof(TrainRunner).Assembly.GetName().Version}",
    };

    internal ModelSize CheckSize(RetrainNetwork net, int inputSize)
    {
        ModelSize size;
        try
        {
            size = ModelSize.Measure(net, inputSize);
            if (net.HasAuxiliary)
            {
                // The auxiliary head runs in training mode only, where BatchNorm takes the batch into its running
                // statistics: they are put back, so that the check leaves the network as it found it.
                using var _ = torch.no_grad();
                using var statistics = new BufferSnapshot(net);
                net.train();
                using var x = torch.zeros(2, 3, inputSize, inputSize);
                var (l, a) = net.ForwardWithAux(x);
                l.Dispose(); a?.Dispose();
            }
        }
        catch (Exception e) when (e is not InputException)
        {
            throw new InputException($"the {RetrainNetwork.KindName(net.Kind)} network does not fit {inputSize}x{inputSize} inputs" +
                                     $": {NativeErrors.Message(e)}");
        }
        if (_o.MaxMultiplyAdds > 0 && size.MultiplyAdds > _o.MaxMultiplyAdds)
            throw new InputException($"the network has {size.MultiplyAdds / 1e6:0.0}M multiply-adds at {inputSize}x{inputSize}, over the limit of " +
                                     $"{_o.MaxMultiplyAdds / 1e6:0.0}M (--max-madds); lower --channels or --layers");
        return size;
    }

    private TrainRecord RunEpoch(int epoch, double lr, RetrainNetwork net, Sgd sgd, DataLoader trainLoader, DataLoader validLoader, CancellationToken cancel)
    {
        TorchSeed.Set(_o.Seed * 1_000_003 + epoch);
        double dropPath = _o.DropPath * epoch / _o.Epochs;
        net.DropPathProb = dropPath;
        net.train();
        var parameters = sgd.Parameters.ToList();
        int steps = trainLoader.BatchesPerEpoch;
        var meter = new ProgressMeter($"epoch {epoch}/{_o.Epochs}", steps, "steps", _log, TimeSpan.FromSeconds(30));
        double lossSum = 0; long correct = 0, seen = 0; int step = 0;
        var watch = Stopwatch.StartNew();
        foreach (var b in trainLoader.Epoch(epoch))
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = torch.NewDisposeScope();
            var (x, y) = b.ToTensors(_compute.Device);
            using var share = Sync.Share(b); // drop-path masks as one process draws them
            b.Dispose();
            Gradients.Zero(parameters);
            var (logits, aux) = net.ForwardWithAux(x);
            var loss = Losses.CrossEntropy(logits, y, _o.LabelSmoothing);
            if (aux is not null)
            {
                using var auxLoss = Losses.CrossEntropy(aux, y, _o.LabelSmoothing);
                loss = Losses.AddWeighted(loss, auxLoss, _o.AuxWeight);
            }
            double l = loss.ToDouble();
            if (!double.IsFinite(l))
                throw DivergedException.At(epoch, step, "training loss", l, "training", 0, "Lower --lr or check the data.");
            loss.backward();
            Sync.Average(parameters);
            if (_o.GradClip > 0) Gradients.ClipNorm(parameters, _o.GradClip);
            sgd.Step(lr);
            if (Sync.Size > 1) Sync.CheckIdentical(parameters, $"the network's parameters after epoch {epoch} step {step}");
            correct += Losses.TopKCorrect(logits, y, 1)[0];
            lossSum += l * y.shape[0];
            seen += y.shape[0];
            step++;
            meter.Report(step, string.Format(CultureInfo.InvariantCulture, "loss {0:0.000}, top-1 {1:0.0}%, {2:0} images/s",
                lossSum / seen, 100.0 * correct / seen, seen / watch.Elapsed.TotalSeconds));
        }
        double seconds = watch.Elapsed.TotalSeconds;
        if (Sync.Size > 1)
        {
            double[] sums = [lossSum, correct, seen];
            Sync.Sum(sums);
            (lossSum, correct, seen) = (sums[0], (long)sums[1], (long)sums[2]);
            Sync.AverageBatchNormStatistics(net);
        }
        var (vLoss, topK) = Evaluation.Run(net, validLoader, _compute.Device, Sync, [1, 5], cancel);
        double top1 = topK[0], top5 = topK[1];
        var r = new TrainRecord
        {
            Epoch = epoch, LearningRate = lr, DropPath = dropPath, TrainLoss = lossSum / Math.Max(seen, 1), TrainTop1 = 100.0 * correct / Math.Max(seen, 1),
            ValidLoss = vLoss, ValidTop1 = top1, ValidTop5 = top5, Seconds = seconds, ImagesPerSecond = seen / seconds,
            WallTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
        };
        _log.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "epoch {0}: lr {1:0.######}, drop-path {2:0.###}, train loss {3:0.0000} top-1 {4:0.00}%, valid loss {5:0.0000} top-1 {6:0.00}% top-5 {7:0.00}%, {8:0.0} images/s, {9:0.0}s",
            r.Epoch, r.LearningRate, r.DropPath, r.TrainLoss, r.TrainTop1, r.ValidLoss, r.ValidTop1, r.ValidTop5, r.ImagesPerSecond, r.Seconds));
        return r;
    }

    private static string Normalised(string path, string optionsJson)
    {
        try { return JsonSerializer.Deserialize<TrainOptions>(optionsJson, TrainHeader.Json) is { } o ? OptionsJson(AsThisBuildReads(o)) : optionsJson; }
        catch (JsonException e) { throw new InputException($"{path}: its training options do not parse ({e.Message})"); }
    }

    private static void Save(string path, TrainHeader header, RetrainNetwork net, Sgd? sgd)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, v) in net.state_dict()) tensors["model." + k] = v;
        if (sgd is not null) foreach (var (k, v) in sgd.State()) tensors["sgd." + k] = v;
        CheckpointFile.Save(path, JsonSerializer.Serialize(header, TrainHeader.Json), tensors);
    }

    private void Resume(string path, TrainHeader now, RetrainNetwork net, Sgd sgd, List<TrainRecord> history)
    {
        var (json, tensors) = CheckpointFile.Load(path);
        try
        {
            var saved = TrainedModel.ReadHeader(path, json);
            if (!saved.Classes.SequenceEqual(now.Classes))
                throw new InputException($"{path}: the checkpoint was trained on {saved.Classes.Count} classes ({saved.Dataset}) but {_dataset.Location} has {now.Classes.Count}; " +
                                         "resume with the same dataset or start a new run folder");
            if (saved.Architecture != now.Architecture)
                throw new InputException($"{path}: the checkpoint trains the {saved.Space} cell {saved.Architecture}, not {now.Architecture}; " +
                                         "resume without --genotype (--resume alone reads the run's own) or start a new run folder");
            // Compared as this build reads them: a setting added since the checkpoint takes its default, which is what
            // the checkpoint's build did.
            // The data folder may have moved (--data on resume): the classes above say whether it holds the same dataset.
            var changed = CheckpointFile.OptionDifferences(typeof(TrainOptions), Normalised(path, saved.Options), now.Options);
            if (changed.Count > 0) throw CheckpointFile.SettingsChanged(path, changed, Path.Combine(_dir, CheckpointFile.OptionsFileName));
            Sync.CheckResumeRanks(saved.Ranks, path);
            TrainedModel.LoadWeights(path, net, tensors);
            sgd.LoadState(tensors.Where(kv => kv.Key.StartsWith("sgd.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[4..], kv => kv.Value));
            history.AddRange(saved.History);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }
}
