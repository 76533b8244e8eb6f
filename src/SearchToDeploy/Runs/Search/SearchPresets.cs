using SearchToDeploy.Nas.Spaces;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;

namespace SearchToDeploy.Runs.Search;

/// <summary>
/// Named settings. <c>paper</c> reproduces the published search settings of each method and space
/// (DARTS, PC-DARTS, NAS-Bench-201 DARTS-V1, RobustDARTS; see docs/search.md); <c>cpu</c> is a reduced budget that
/// finishes within 30 minutes on a 2-core CPU.
/// </summary>
public static class SearchPresets
{
    public static readonly IReadOnlyList<string> Names = ["paper", "cpu", "smoke"];

    public static SearchOptions Create(string preset, string space, SearchMethod method)
    {
        var s = SearchSpaces.Get(space);
        var o = Paper(s, method);
        return preset switch
        {
            "paper" => o,
            "cpu" => Cpu(o, s),
            "smoke" => Smoke(o, s),
            _ => throw new InputException($"--preset '{preset}': unknown preset; expected one of {string.Join(", ", Names)}"),
        };
    }

    private static SearchOptions Paper(SearchSpace space, SearchMethod method)
    {
        bool pc = method.PartialChannels, rf = method.RandomFeatures;
        // The supernet's accuracy after each epoch is monitoring only (the search never reads it); 10k of the 25k
        // held-out images estimate it well enough and save a 25k-image pass per epoch (docs/benchmarks.md).
        var o = new SearchOptions { Space = space.Name, Method = method, Preset = "paper", Seed = 2, ValidImages = 10_000 };
        if (space.Kind == SpaceKind.Nb201)
        {
            // xautodl DARTS-V1 on NAS-Bench-201: C=16, N=5, batch 64, nesterov SGD 0.025 -> 0.001, wd 5e-4, Adam 3e-4,
            // the weight step before the α step.
            o = o with
            {
                Layers = 5, BatchSize = 64, LearningRate = 0.025, LearningRateMin = 0.001, Nesterov = true,
                WeightDecay = 5e-4, ArchLearningRate = 3e-4, ArchWarmupEpochs = pc ? 15 : 0, WeightsFirst = true,
            };
        }
        else if (space.Name == SearchSpaces.Darts.Name)
        {
            // DARTS: batch 64, SGD 0.025 -> 0.001, Adam 3e-4. PC-DARTS: batch 256, SGD 0.1 -> 0, Adam 6e-4, α from epoch 15.
            o = pc
                ? o with { BatchSize = 256, LearningRate = 0.1, LearningRateMin = 0, ArchLearningRate = 6e-4, ArchWarmupEpochs = 15 }
                : o with { BatchSize = 64, LearningRate = 0.025, LearningRateMin = 0.001, ArchLearningRate = 3e-4 };
        }
        else
        {
            // RobustDARTS S1-S4: batch 64, SGD 0.025 -> 0.001, wd 3e-4, second order, cutout, drop-path 0.2.
            o = o with
            {
                BatchSize = 64, LearningRate = 0.025, LearningRateMin = 0.001, ArchLearningRate = pc ? 6e-4 : 3e-4,
                ArchWarmupEpochs = pc ? 15 : 0, Unrolled = !pc, Cutout = 16, DropPath = 0.2,
            };
        }
        if (rf) o = RandomFeatureDefaults(o);
        // GDAS (xautodl's GDAS settings): first order, the weight step before the α step in every space (the cpu and
        // smoke presets keep DARTS's α-first order, as for every method), on NAS-Bench-201 for 250 epochs.
        if (method == SearchMethod.Gdas) o = o with { Unrolled = false, WeightsFirst = true, Epochs = space.Kind == SpaceKind.Nb201 ? 250 : o.Epochs };
        return o;
    }

    /// <summary>
    /// Random-feature defaults. The paper's settings beyond its abstract are not public; these were chosen by
    /// measurement on NAS-Bench-201 (docs/search.md): with only BN affine parameters training, the published weight
    /// learning rate (0.025) and a frozen classifier leave the supernet barely trained and α drifting to average
    /// pooling; BN learning rate 0.25, a trainable classifier and He-normal frozen filters train it and find good
    /// cells. BN parameters get no weight decay (decay pulls the BN scales of a frozen network to 0).
    /// </summary>
    private static SearchOptions RandomFeatureDefaults(SearchOptions o) => o with
    {
        LearningRate = 0.25,
        BnWeightDecay = 0,
        TrainClassifier = true,
        FrozenInit = FrozenInit.KaimingNormal,
    };

    /// <summary>
    /// A reduced budget for a 2-core CPU, under 30 minutes: NAS-Bench-201 with 2 cells per stage and 15 epochs (10k/10k
    /// images with partial channels, 5k/5k without, whose steps cost several times more); the DARTS space with C=8, 5 cells,
    /// 10 epochs on 5k/5k images. α warm-up is scaled down with the epochs. In the DARTS space the partial-channel
    /// methods get 5x PC-DARTS's α learning rate (3e-3): the budget has about a sixth of the paper's α steps, and at
    /// the published rate α hardly moved (most choices decided by a hair, cells of mostly max pooling that retrained
    /// worse); at 5x far fewer (docs/search.md, "How firmly α decides the cell").
    /// </summary>
    private static SearchOptions Cpu(SearchOptions o, SearchSpace space)
    {
        bool pc = o.Method.PartialChannels;
        if (pc && space.Name == SearchSpaces.Darts.Name) o = o with { ArchLearningRate = 5 * o.ArchLearningRate };
        return space.Kind == SpaceKind.Nb201
            ? o with
            {
                Preset = "cpu", Layers = 2, Epochs = 15, BatchSize = 64, MaxImagesPerPart = pc ? 10_000 : 5_000, ValidImages = 5_000,
                ArchWarmupEpochs = pc ? 4 : 0, WeightsFirst = false, // DARTS's α-first order: measured better at this budget (docs/search.md)
            }
            : o with
            {
                Preset = "cpu", Layers = 5, Channels = 8, Epochs = 10, BatchSize = 64, MaxImagesPerPart = 5_000, ValidImages = 2_000,
                ArchWarmupEpochs = pc ? 3 : 0, Unrolled = false, WeightsFirst = false,
            };
    }

    private static SearchOptions Smoke(SearchOptions o, SearchSpace space) => o with
    {
        Preset = "smoke", Layers = space.Kind == SpaceKind.Nb201 ? 1 : 3, Channels = 8, Epochs = 2, BatchSize = 32,
        MaxImagesPerPart = 256, ValidImages = 256, ArchWarmupEpochs = 0, Unrolled = false, Workers = 1, WeightsFirst = false,
    };
}
