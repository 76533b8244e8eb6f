using System.Globalization;
using SearchToDeploy.Nas.Architectures;

namespace SearchToDeploy.Runs.Search;

/// <summary>
/// How firmly an epoch's architecture weights decide its cell: every choice of the derivation rule with the
/// winner's lead over its rival (<see cref="Derivation.Decisions"/>), and for how many epochs in a row the cell has
/// stayed the same. Near-uniform weights (a short search) pick a cell by a hair; this says so in the log, in
/// metrics.csv and in summary.json instead of leaving a person to read it from alphas.csv.
/// </summary>
public sealed record Firmness(Decision Weakest, int Narrow, int Choices, int SameCellEpochs)
{
    /// <summary>A lead under this share of the winner's weight counts as narrow.</summary>
    public const double NarrowLead = 0.05;

    /// <summary>The firmness of <paramref name="history"/>[<paramref name="index"/>]; null when the rule had nothing to choose.</summary>
    public static Firmness? Of(SearchOptions o, IReadOnlyList<EpochRecord> history, int index)
    {
        var r = history[index];
        var effective = r.Weights.ToDictionary(kv => kv.Key, kv => kv.Value.Effective);
        var d = Derivation.Decisions(o.SearchSpace, effective, o.Steps, o.DeriveWithoutNone);
        if (d.Count == 0) return null;
        int same = 1;
        while (index - same >= 0 && history[index - same].Genotype == r.Genotype) same++;
        return new Firmness(d.MinBy(x => x.Lead)!, d.Count(x => x.Lead < NarrowLead), d.Count, same);
    }

    public string Describe() => string.Format(CultureInfo.InvariantCulture,
        "weakest choice {0} by {1:0.0#}%; {2} of {3} choices lead by under {4:0}%; the same cell for {5} epoch{6}",
        Weakest.What, 100 * Weakest.Lead, Narrow, Choices, 100 * NarrowLead, SameCellEpochs, SameCellEpochs == 1 ? "" : "s");

    /// <summary>What a person should know when a final cell has narrow choices.</summary>
    public string Note() => string.Format(CultureInfo.InvariantCulture,
        "note: {0} of the final cell's {1} choices lead their rivals by under {2:0}% (weakest: {3}, {4:0.0#}%): the architecture " +
        "weights barely separate those ops, and another seed may well pick otherwise; more epochs or images give a firmer cell",
        Narrow, Choices, 100 * NarrowLead, Weakest.What, 100 * Weakest.Lead);
}
