using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SearchToDeploy.Core.Checkpoints;
using SearchToDeploy.Core.Distributed;
using SearchToDeploy.Core.Io;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Data;
using SearchToDeploy.Data.Transforms;
using SearchToDeploy.Nas.Architectures;
using SearchToDeploy.Nas.Ops;
using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;
using TorchSharp;
using DataLoader = SearchToDeploy.Data.DataLoader;
using ParamGroup = SearchToDeploy.Core.Optim.ParamGroup;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SearchToDeploy.Runs.Search;

/// <summary>
/// Runs a differentiable architecture search into a run folder: per step an architecture step on the architecture
/// half of the split (from the warm-up epoch on), then a weight step on the weight half; after each epoch an
/// evaluation, a log entry, an atomic checkpoint (weights, BN statistics, α/β, both optimizers, history) and the
/// regenerated artifacts. A resumed run continues bit-identically (data order and torch's generator are functions
/// of (seed, epoch)).
/// </summary>
public sealed class SearchRunner
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) }, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private readonly SearchOptions _o;
    private readonly string _dir;
    private readonly TextWriter _log;
    private readonly DatasetRef _dataset;
    private readonly Compute _compute;

    /// <param name="compute">Where torch runs and on how many threads (the caller resolves <see cref="SearchOptions.Device"/> and <see cref="SearchOptions.Threads"/>).</param>
    public SearchRunner(SearchOptions options, DatasetRef dataset, string runDir, TextWriter log, Compute compute)
    {
        options.Validate();
        _o = options; _dataset = dataset; _dir = Path.GetFullPath(runDir); _log = log;
        _compute = compute;
    }

    /// <summary>Build the edge-by-edge reference cells even where a fused cell exists (as builds before the fused
    /// DARTS-style cell did; tests use it to make such checkpoints).</summary>
    internal bool ReferenceCells { get; init; }

    /// <summary>How gradients are averaged over the processes of a data-parallel run (default: one process).</summary>
    public IGradientSync Sync { get; init; } = IGradientSync.SingleProcess;

    /// <summary>Raised after each epoch's checkpoint and artifacts are written.</summary>
    public event Action<EpochRecord>? EpochCompleted;

    public static string OptionsJson(SearchOptions o) => JsonSerializer.Serialize(o, Json);

    /// <summary>
    /// The options a run folder's search was started with (its options.json), or null when it has none; as this build
    /// reads them (a --data that earlier builds recorded for CIFAR or SVHN did nothing, and is left out), as
    /// <see cref="Training.TrainRunner.Saved"/> reads a training's.
    /// </summary>
    public static SearchOptions? SavedOptions(string runDir)
    {
        string path = Path.Combine(runDir, CheckpointFile.OptionsFileName);
        if (!File.Exists(path)) return null;
        try
        {
            var o = JsonSerializer.Deserialize<SearchOptions>(File.ReadAllText(path), Json) ?? throw new InputException($"{path}: empty search options");
            return o with { DataPath = DatasetRef.SavedPath(o.Dataset, o.DataPath) };
        }
        catch (JsonException e)
        {
            throw new InputException($"{path}: not the search options s2d writes ({e.Message})");
        }
    }

    /// <summary>Runs (or, with <paramref name="resume"/>, continues) the search; returns the final architecture.</summary>
    public Architecture Run(bool resume, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(_dir);
        string ckpt = Path.Combine(_dir, SearchRunFolder.Checkpoint);
        if (File.Exists(ckpt) && !resume)
            throw new InputException($"{_dir} already holds a search checkpoint; pass --resume to continue it or --force to start over");
        if (!File.Exists(ckpt) && File.Exists(Path.Combine(_dir, SearchRunFolder.Genotype)))
            throw new InputException($"{_dir} holds a searched cell ({SearchRunFolder.Genotype}) but not {SearchRunFolder.Checkpoint}, the checkpoint a search goes on from; " +
                                     "a new search would write over it: pass --force to start over (the cell is kept until the new search's first checkpoint), or choose another --out");
        if (resume && !File.Exists(ckpt)) _log.WriteLine($"no checkpoint in {_dir}: starting from epoch 0");
        Sync.CheckSettings(_o.BatchSize, _o.ParallelSteps);

        if (_o.ParallelSteps && !_compute.IsCpu)
            throw new InputException($"--parallel-steps splits a step over two CPU cores; on {_compute.DeviceName} drop it (or use --device cpu)");
        _compute.ApplyThreads();
        var train = _dataset.Open(Split.Train);
        // An image folder lists its images class by class: its split is drawn (one fixed order for every search seed).
        var (weightIdx, archIdx) = SearchSplit.Create(train.Count, _o.TrainPortion, _o.MaxImagesPerPart, _dataset.IsSmallImage ? null : 0);
        var norm = _dataset.Normalization;
        var trainTf = CifarTransform.Train(norm, _o.Cutout);
        var evalTf = CifarTransform.Eval(norm);
        var weightLoader = new DataLoader(train, weightIdx, trainTf, Sync.Shard(new LoaderOptions(_o.BatchSize, true, _o.Seed, DropLast: true, Workers: _o.Workers)));
        var archLoader = new DataLoader(train, archIdx, trainTf, Sync.Shard(new LoaderOptions(_o.BatchSize, true, _o.Seed + 1, DropLast: true, Workers: _o.Workers)));
        var validIdx = _o.ValidImages > 0 ? archIdx.Take(_o.ValidImages).ToArray() : archIdx;
        var validLoader = new DataLoader(train, validIdx, evalTf, Sync.Shard(new LoaderOptions(256, false, _o.Seed, Workers: _o.Workers)));
        int steps = Math.Min(weightLoader.BatchesPerEpoch, archLoader.BatchesPerEpoch);

        TorchSeed.Set(_o.Seed);
        var cfg = _o.SupernetConfig(train.Classes.Count);
        if (cfg.Fused && (ReferenceCells || resume && File.Exists(ckpt) && HoldsReferenceCells(ckpt)))
        {
            cfg = cfg with { Fused = false };
            if (!ReferenceCells) _log.WriteLine($"{ckpt} holds edge-by-edge cells (from a build before the fused cells): continuing with them");
        }
        using var session = SearchSession.Create(_o, cfg, _compute, Sync);
        var net = session.Net;
        var strategy = session.Strategy;
        var table = _o.Nb201Table is { } tp && cfg.Space.Kind.HasBenchmarkTable ? Nb201Table.Load(tp) : null;

        var history = new List<EpochRecord>();
        int start = 0;
        if (File.Exists(ckpt) && resume)
        {
            start = LoadCheckpoint(ckpt, session, history);
            _log.WriteLine($"resumed {_dir} after epoch {start - 1} ({start}/{_o.Epochs} epochs done)");
        }
        else
        {
            var (t, f, a) = RandomFeatures.Count(net);
            _log.WriteLine($"search: {_o.Method.Name} on {cfg.Space.Name}, {_dataset.Name} ({weightIdx.Length} weight / {archIdx.Length} architecture images), " +
                           $"{_o.Epochs} epochs of {steps} steps, batch {_o.BatchSize}, seed {_o.Seed}, preset {_o.Preset}");
            _log.WriteLine($"supernet: C={cfg.Channels}, {cfg.Space.Kind.DescribeLayers(cfg.Layers)}, " +
                           $"K={cfg.PartialK}, edge normalisation {(cfg.EdgeNormalization ? "on" : "off")}, BN affine {(cfg.Affine ? "on" : "off")}, " +
                           $"{(_o.Unrolled ? (_compute.IsCpu ? "second-order" : "second-order (TF32 convolutions off in its α step)") : _o.ParallelSteps ? "first-order parallel" : "first-order")} steps, " +
                           $"{(cfg.Precision == Precision.Float32 ? "float32" : "bfloat16 activations (float32 parameters)")}, " +
                           $"{TorchDevices.Where(_compute.Device, _o.ParallelSteps ? $"2 x {ParallelSteps.ThreadsPerSide(_compute.Threads)}" : _compute.Threads.ToString())}; " +
                           $"parameters: {t:N0} trainable, {f:N0} frozen, {a:N0} architecture");
            if (Sync.Size > 1) _log.WriteLine($"data-parallel: {Sync.Size} MPI ranks, {_o.BatchSize / Sync.Size} images of each batch per rank");
            if (cfg.DeriveWithoutNone) _log.WriteLine("derivation: each edge's strongest op other than none (--derive-without-none)");
        }
        // What ran, and what the next checkpoints record (on a resume: a moved data folder, its runtime settings), for a
        // person reading the folder; after a resume's checkpoint was checked against these settings.
        if (Sync.IsMain) AtomicFile.WriteAllText(Path.Combine(_dir, CheckpointFile.OptionsFileName), OptionsJson(_o) + "\n");

        var total = Stopwatch.StartNew();
        for (int epoch = start; epoch < _o.Epochs; epoch++)
        {
            cancel.ThrowIfCancellationRequested();
            // RobustDARTS's regularisation grows over the search: drop-path and the share of images cut out rise
            // linearly from 0 at the first epoch to their settings at the last (a function of the epoch: resumes exactly).
            double ramp = _o.Epochs > 1 ? (double)epoch / (_o.Epochs - 1) : 1;
            if (_o.DropPath > 0) net.DropPathProb = _o.DropPath * ramp;
            trainTf.CutoutProbability = ramp;
            var record = RunEpoch(epoch, steps, net, strategy, weightLoader, archLoader, validLoader, table, cancel);
            if (!Gradients.AllFinite(net.parameters()))
                throw DivergedException.AfterEpoch(epoch, "supernet's parameters or architecture weights", "search", 0, "Lower --lr or --arch-lr, or check the data.");
            history.Add(record);
            LogEpoch(record, Firmness.Of(_o, history, history.Count - 1));
            if (Sync.Report(steps * (history.Count - start), history.Skip(start).Sum(h => h.Seconds)) is { } exchange) _log.WriteLine($"epoch {epoch}: {exchange}");
            var arch = net.Derive();
            if (Sync.IsMain)
            {
                SaveCheckpoint(ckpt, epoch, session, history);
                GenotypeFile.Save(Path.Combine(_dir, GenotypeFile.FileName), GenotypeDocument.Of(arch).With("search", Provenance(epoch + 1, record)));
                SearchArtifacts.Write(_dir, _o, history, arch);
            }
            EpochCompleted?.Invoke(record);
            double perEpoch = total.Elapsed.TotalSeconds / (epoch + 1 - start);
            _log.WriteLine($"epoch {epoch}: done; {ProgressMeter.FormatDuration(TimeSpan.FromSeconds(perEpoch * (_o.Epochs - epoch - 1)))} left for {_o.Epochs - epoch - 1} epochs");
        }

        var final = _o.Selection == CellSelection.Perturbation ? SelectByPerturbation(net, train, archIdx, evalTf, ckpt, cancel) : net.Derive();
        var last = history[^1];
        if (!Sync.IsMain) return final;
        var provenance = Provenance(_o.Epochs, last);
        if (_o.Selection != CellSelection.Alpha)
        {
            provenance["selection"] = _o.Selection;
            provenance["nb201"] = final.Nb201 is { } selected ? table?.TryLookup(selected)?.Accuracies : null;
        }
        GenotypeFile.Save(Path.Combine(_dir, GenotypeFile.FileName), GenotypeDocument.Of(final).With("search", provenance));
        // A finished run resumed: nothing ran, so this build's logs, plots and CSVs are written from the history here.
        if (start >= _o.Epochs) SearchArtifacts.Write(_dir, _o, history, final);
        // The epochs drew α's cell; the folder's drawings show the cell the search gives (genotype.json, summary.json).
        else if (_o.Selection != CellSelection.Alpha) Reporting.CellDrawings.Draw(_dir, final);
        var firm = Firmness.Of(_o, history, history.Count - 1);
        WriteSummary(final, history, table, firm);
        if (firm is { Narrow: > 0 } && _o.Selection == CellSelection.Alpha) _log.WriteLine(firm.Note()); // the note reads α's choices
        _log.WriteLine($"search finished: {final}");
        return final;
    }

    /// <summary>
    /// The final cell by perturbation (<see cref="PerturbationSelection"/>) on the first <see cref="SearchOptions.SelectionImages"/>
    /// images of the architecture half, unaugmented, the same on every rank of a data-parallel run. The losses it measures
    /// go to the run's <see cref="SelectionJournal"/>, so an interrupted selection resumes where it stopped.
    /// </summary>
    private Architecture SelectByPerturbation(Supernet net, IImageDataset train, IReadOnlyList<int> archIdx, IImageTransform evalTf,
        string checkpoint, CancellationToken cancel)
    {
        var loader = new DataLoader(train, [.. archIdx.Take(_o.SelectionImages)], evalTf, new LoaderOptions(256, false, _o.Seed, Workers: _o.Workers));
        var batches = new List<(Tensor X, Tensor Y)>();
        try
        {
            foreach (var b in loader.Epoch(0))
                using (b)
                    if (b.Count > 0) batches.Add(b.ToTensors(_compute.Device));
            // A rank that does not share the main rank's folder has no checkpoint here: it measures every loss itself.
            using var journal = File.Exists(checkpoint)
                ? SelectionJournal.Open(Path.Combine(_dir, SearchRunFolder.SelectionJournal), SelectionJournal.KeyOf(checkpoint, _o.SelectionImages, _o.Seed), write: Sync.IsMain)
                : null;
            var arch = PerturbationSelection.Select(net, batches, _o.Seed, _log, journal?.Known, journal is null ? null : journal.Append, cancel);
            _log.WriteLine($"selected by perturbation: {arch} (by alpha: {net.Derive()})");
            return arch;
        }
        finally
        {
            foreach (var (x, y) in batches) { x.Dispose(); y.Dispose(); }
        }
    }

    private double LearningRate(int epoch) => new LrSchedule(ScheduleKind.Cosine, _o.LearningRate, _o.Epochs, _o.LearningRateMin).At(epoch);

    private EpochRecord RunEpoch(int epoch, int steps, Supernet net, ISearchStrategy step, DataLoader weightLoader,
        DataLoader archLoader, DataLoader validLoader, Nb201Table? table, CancellationToken cancel)
    {
        // Everything random in an epoch is a function of (seed, epoch): resuming at an epoch boundary is exact.
        TorchSeed.Set(_o.Seed * 1_000_003 + epoch);
        double lr = LearningRate(epoch);
        bool archTrains = epoch >= _o.ArchWarmupEpochs;
        step.BeginEpoch(epoch, _o.Epochs);
        // Parallel steps give each side half the threads; weight-only epochs (α warm-up) and evaluation use them all.
        torch.set_num_threads(step.ThreadsFor(archTrains, _compute.Threads));
        net.train();
        var meter = new ProgressMeter($"epoch {epoch}/{_o.Epochs}", steps, "steps", _log, TimeSpan.FromSeconds(30));
        double lossSum = 0, archLossSum = 0; long correct = 0, seen = 0; int n = 0;
        IReadOnlyList<Tensor> trained = Sync.Size > 1 ? [.. net.WeightParameters, .. net.ArchParameters] : [];
        var watch = Stopwatch.StartNew();
        using var archBatches = archLoader.Epoch(epoch).GetEnumerator();
        try
        {
            foreach (var wb in weightLoader.Epoch(epoch))
            {
                if (n == steps || !archBatches.MoveNext()) { wb.Dispose(); break; }
                cancel.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                var (xt, yt) = wb.ToTensors(_compute.Device);
                var ab = archBatches.Current;
                var (xa, ya) = ab.ToTensors(_compute.Device);
                ab.Dispose();
                // Both loaders drop their last partial batch, so the two batches' shares are the same rows.
                using var share = Sync.Share(wb);
                wb.Dispose();

                var r = step.Gradients(xt, yt, xa, ya, lr, archTrains);
                if (!double.IsFinite(r.ArchLoss)) Diverged(epoch, n, "architecture (validation) loss", r.ArchLoss);
                if (!double.IsFinite(r.Loss)) Diverged(epoch, n, "training loss", r.Loss);
                step.UpdateWeights(lr);
                archLossSum += r.ArchLoss;
                if (Sync.Size > 1) Sync.CheckIdentical(trained, $"the supernet's trained parameters and alpha after epoch {epoch} step {n}");

                using (var pred = r.Logits.argmax(1)) using (var eq = pred.eq(yt)) correct += eq.sum().item<long>();
                lossSum += r.Loss * yt.shape[0];
                seen += yt.shape[0];
                n++;
                meter.Report(n, $"loss {lossSum / seen:0.000}, acc {100.0 * correct / seen:0.0}%");
            }
        }
        finally { _compute.ApplyThreads(); } // all threads again, also when a step failed or the run was cancelled
        double seconds = watch.Elapsed.TotalSeconds;
        if (Sync.Size > 1)
        {
            double[] sums = [lossSum, correct, seen, archLossSum];
            Sync.Sum(sums);
            (lossSum, correct, seen, archLossSum) = (sums[0], (long)sums[1], (long)sums[2], sums[3] / Sync.Size);
            Sync.AverageBatchNormStatistics(net);
        }
        var (vLoss, topK) = Evaluation.Run(net, validLoader, _compute.Device, Sync, [1], cancel);
        double vAcc = topK[0];
        var arch = net.Derive();
        var weightsNow = net.ArchWeights().ToDictionary(kv => kv.Key, kv => kv.Value);
        Dictionary<string, double?>? nb = null;
        // A cell a partial table lacks has no accuracy to log: monitoring only, the search goes on (it used to stop the run
        // after the epoch had trained, before its checkpoint, in every resume).
        if (arch.Nb201 is { } nbArch && table?.TryLookup(nbArch) is { } entry) nb = entry.Accuracies.ToDictionary(kv => kv.Key, kv => kv.Value);

        var record = new EpochRecord
        {
            Epoch = epoch, LearningRate = lr, TrainLoss = lossSum / Math.Max(seen, 1), TrainAccuracy = 100.0 * correct / Math.Max(seen, 1),
            ArchLoss = archTrains && n > 0 ? archLossSum / n : double.NaN, ValidLoss = vLoss, ValidAccuracy = vAcc,
            Seconds = seconds, ImagesPerSecond = (archTrains ? 2.0 : 1.0) * seen / seconds, Genotype = arch.Text, Weights = weightsNow, Nb201 = nb,
            WallTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
        };
        return record;
    }

    private static void Diverged(int epoch, int step, string what, double value) =>
        throw DivergedException.At(epoch, step, what, value, "search", 0, "Lower --lr or --arch-lr, or check the data.");

    private void LogEpoch(EpochRecord r, Firmness? firmness)
    {
        var inv = CultureInfo.InvariantCulture;
        _log.WriteLine(string.Format(inv, "epoch {0}: lr {1:0.######}, train loss {2:0.0000} acc {3:0.00}%, valid loss {4:0.0000} acc {5:0.00}%, {6:0.0} images/s, {7:0.0}s",
            r.Epoch, r.LearningRate, r.TrainLoss, r.TrainAccuracy, r.ValidLoss, r.ValidAccuracy, r.ImagesPerSecond, r.Seconds));
        foreach (var (cell, weights) in r.Weights)
        {
            var ops = _o.SearchSpace.EdgesOf(cell == "reduce");
            _log.WriteLine($"epoch {r.Epoch}: {cell} cell, softmax(alpha) per edge{(weights.Edges is null ? "" : " (beta: node-normalised edge weight)")}:");
            for (int e = 0; e < weights.Ops.Length; e++)
                _log.WriteLine($"  edge {e,2}: " + string.Join("  ", weights.Ops[e].Select((w, k) => string.Format(inv, "{0} {1:0.000}", ops[e][k], w))) +
                               (weights.Edges is null ? "" : string.Format(inv, "  | beta {0:0.000}", weights.Edges[e])));
        }
        _log.WriteLine($"epoch {r.Epoch}: genotype {r.Genotype}");
        if (firmness is not null) _log.WriteLine($"epoch {r.Epoch}: {firmness.Describe()}");
        if (r.Nb201 is { } nb)
            _log.WriteLine($"epoch {r.Epoch}: NAS-Bench-201 accuracies of this cell: " +
                           string.Join(", ", nb.Where(kv => kv.Value is not null).Select(kv => string.Format(inv, "{0} {1:0.00}", kv.Key, kv.Value))));
    }

    /// <summary>The search's entry in the genotype's provenance: what made the cell (no times or paths, so a rerun gives the same).</summary>
    private Dictionary<string, object?> Provenance(int epochsDone, EpochRecord last) => new()
    {
        ["method"] = _o.Method.Name,
        ["space"] = _o.Space,
        ["dataset"] = _dataset.Name,
        ["seed"] = _o.Seed,
        ["preset"] = _o.Preset,
        ["epochs"] = epochsDone,
        ["of_epochs"] = _o.Epochs,
        ["valid_accuracy"] = Math.Round(last.ValidAccuracy, 4),
        ["nb201"] = last.Nb201,
        ["producer"] = $"s2d {typeof(SearchRunner).Assembly.GetName().Version}",
    };

    private void WriteSummary(Architecture final, IReadOnlyList<EpochRecord> history, Nb201Table? table, Firmness? firmness)
    {
        var summary = new Dictionary<string, object?>
        {
            ["genotype"] = final.Text,
            ["method"] = _o.Method.Name,
            ["space"] = _o.Space,
            ["dataset"] = _dataset.Name,
            ["seed"] = _o.Seed,
            ["preset"] = _o.Preset,
            ["selection"] = _o.Selection,
            ["ranks"] = Sync.Size,
            ["epochs"] = history.Count,
            ["search_seconds"] = Math.Round(history.Sum(h => h.Seconds), 1),
            ["final_valid_accuracy"] = history[^1].ValidAccuracy,
            ["final_train_accuracy"] = history[^1].TrainAccuracy,
        };
        if (firmness is not null)
            summary["choices"] = new Dictionary<string, object>
            {
                ["count"] = firmness.Choices,
                ["narrow"] = firmness.Narrow,
                ["narrow_below_lead_percent"] = 100 * Firmness.NarrowLead,
                ["weakest"] = firmness.Weakest.What,
                ["weakest_lead_percent"] = Math.Round(100 * firmness.Weakest.Lead, 2),
                ["same_cell_epochs"] = firmness.SameCellEpochs,
            };
        if (table is not null && final.Nb201 is { } a && table.TryLookup(a) is { } e)
        {
            summary["nb201_index"] = e.Index;
            summary["nb201"] = e.Accuracies;
            if (e.Accuracies.GetValueOrDefault("cifar10_test") is { } c10)
            {
                var (best, _) = table.Best("cifar10_test");
                summary["nb201_cifar10_test_percentile"] = Math.Round(100 * table.Percentile("cifar10_test", c10), 2);
                summary["nb201_cifar10_test_optimum"] = best;
                _log.WriteLine(string.Format(CultureInfo.InvariantCulture, "NAS-Bench-201: this cell reaches {0:0.00}% CIFAR-10 test (optimum {1:0.00}%, better than {2:0.0}% of all cells)", c10, best, 100 * table.Percentile("cifar10_test", c10)));
            }
        }
        AtomicFile.WriteAllText(Path.Combine(_dir, SearchRunFolder.Summary), JsonSerializer.Serialize(summary, Json) + "\n");
    }

    private sealed record CheckpointHeader(int Version, int EpochsDone, string Options, List<EpochRecord> History, int Ranks);

    private void SaveCheckpoint(string path, int epoch, SearchSession session, List<EpochRecord> history)
    {
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (k, v) in session.Net.state_dict()) tensors["model." + k] = v;
        foreach (var (k, v) in session.Sgd.State()) tensors["sgd." + k] = v;
        foreach (var (k, v) in session.Strategy.State()) tensors["adam." + k] = v;
        var header = new CheckpointHeader(1, epoch + 1, OptionsJson(_o), history, Sync.Size);
        CheckpointFile.Save(path, JsonSerializer.Serialize(header, Json), tensors);
    }

    /// <summary>Whether a checkpoint's supernet has edge-by-edge cells (parameters per edge: "cells.N.edges.E..."), from
    /// its tensor names alone: the data is read once, by the load that follows.</summary>
    private static bool HoldsReferenceCells(string path) =>
        CheckpointFile.TensorNames(path).Any(k => k.StartsWith("model.cells.", StringComparison.Ordinal) && k.Contains(".edges.", StringComparison.Ordinal));

    private int LoadCheckpoint(string path, SearchSession session, List<EpochRecord> history)
    {
        var (json, tensors) = CheckpointFile.Load(path);
        try
        {
            CheckpointHeader? read;
            try { read = JsonSerializer.Deserialize<CheckpointHeader>(json, Json); }
            catch (JsonException e) { throw new InputException($"{path}: not a search checkpoint ({e.Message})"); }
            if (read is not { Options: not null, History: not null } header)
                throw new InputException($"{path}: not a search checkpoint (its header holds no search options or history; a training checkpoint? expected the checkpoint.s2d of s2d search)");
            // Where the data is may change (a moved or copied folder, named again with --data: a location setting); what it is, not.
            var changed = CheckpointFile.OptionDifferences(typeof(SearchOptions), SpaceKindJsonConverter.Normalise(header.Options), OptionsJson(_o));
            if (changed.Count > 0) throw CheckpointFile.SettingsChanged(path, changed, Path.Combine(_dir, CheckpointFile.OptionsFileName));
            Sync.CheckResumeRanks(header.Ranks, path);
            CheckpointFile.LoadModel(path, session.Net, tensors, "the supernet its options describe");
            session.Sgd.LoadState(tensors.Where(kv => kv.Key.StartsWith("sgd.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[4..], kv => kv.Value));
            session.Strategy.LoadState(tensors.Where(kv => kv.Key.StartsWith("adam.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key[5..], kv => kv.Value));
            history.AddRange(header.History);
            return header.EpochsDone;
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose(); // also when the settings differ: a pipeline process lives on
        }
    }
}
