using System.CommandLine;
using System.Globalization;
using SearchToDeploy.Runs;

namespace SearchToDeploy.Cli.Commands;

/// <summary>
/// The command-line options of an options record, made from the options it declares (<see cref="OptionTable"/>), and
/// the values a command line gave, applied through the same table. A value that does not parse or is out of range is
/// a usage error naming the option and what it accepts.
/// </summary>
public sealed class OptionBinder<T> where T : class
{
    private readonly List<(OptionEntry Entry, Option Option, Func<ParseResult, object?> Value)> _options = [];

    /// <summary>Adds an option to <paramref name="command"/> for every declared option except <paramref name="except"/> (names with dashes).</summary>
    public OptionBinder(Command command, params string[] except)
    {
        foreach (var entry in OptionTable.For<T>().Where(e => !except.Contains(e.Name)))
        {
            var (option, value) = Create(entry);
            command.Options.Add(option);
            _options.Add((entry, option, value));
        }
    }

    public Option this[string name] => _options.First(o => o.Entry.Name == name).Option;

    /// <summary>The options the command line names (not those left to the preset), with their values.</summary>
    public IEnumerable<(OptionEntry Entry, object? Value)> Given(ParseResult r) =>
        _options.Where(o => CommonOptions.Given(r, o.Option)).Select(o => (o.Entry, o.Value(r)));

    /// <summary><paramref name="options"/> with every given option applied.</summary>
    public T Apply(ParseResult r, T options) => OptionTable.Apply(options, Given(r));

    private static (Option, Func<ParseResult, object?>) Create(OptionEntry e)
    {
        var t = e.ParsedType;
        if (t == typeof(int)) return Number<int>(e, s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null, "a whole number");
        if (t == typeof(long)) return Number<long>(e, s => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null, "a whole number");
        if (t == typeof(double)) return Number<double>(e, s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null, "a number");
        if (t == typeof(float)) return Number<float>(e, s => float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v) ? v : null, "a number");
        if (t == typeof(bool))
        {
            var b = new Option<bool?>(e.Name) { Description = e.Help };
            return (b, r => r.GetValue(b));
        }
        var text = new Option<string?>(e.Name) { Description = e.Help };
        return (text, r => r.GetValue(text));
    }

    /// <summary>A number option that reports a malformed or out-of-range value by its name and range.</summary>
    private static (Option, Func<ParseResult, object?>) Number<TNum>(OptionEntry e, Func<string, TNum?> parse, string expected) where TNum : struct
    {
        var o = new Option<TNum?>(e.Name)
        {
            Description = e.Help,
            CustomParser = result =>
            {
                string token = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (parse(token) is not { } v) { result.AddError($"{e.Name} '{token}': expected {expected}"); return null; }
                try { e.Convert(v); }
                catch (InputException x) { result.AddError(x.Message); return null; }
                return v;
            },
        };
        return (o, r => r.GetValue(o));
    }
}
