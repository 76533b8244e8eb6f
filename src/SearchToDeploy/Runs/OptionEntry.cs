using System.Globalization;
using System.Reflection;

namespace SearchToDeploy.Runs;

/// <summary>One declared option of an options record: its attribute and the property it sets.</summary>
public sealed record OptionEntry(OptionAttribute Option, PropertyInfo Property)
{
    /// <summary>The command-line name, e.g. "--lr".</summary>
    public string Name => Option.Name;

    /// <summary>The name without dashes, as settings files and --set write it ("lr").</summary>
    public string Key => Name.TrimStart('-');

    /// <summary>The property's type without Nullable.</summary>
    public Type ValueType => Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;

    /// <summary>The type the command line parses: numbers, booleans and text as themselves, anything else as text.</summary>
    public Type ParsedType => ValueType.IsPrimitive || ValueType == typeof(string) ? ValueType : typeof(string);

    /// <summary>The description with the accepted range.</summary>
    public string Help => Range() is { } r ? $"{Option.Description} [{r}]" : Option.Description;

    /// <summary>The value for the property from what was parsed (or read as text), checked against the range.</summary>
    public object? Convert(object? parsed)
    {
        object? value = parsed switch
        {
            null => null,
            string s when ValueType != typeof(string) => FromText(s),
            _ when parsed.GetType() != ValueType => System.Convert.ChangeType(parsed, ValueType, CultureInfo.InvariantCulture),
            _ => parsed,
        };
        if (value is IConvertible c && ValueType.IsPrimitive && ValueType != typeof(bool))
        {
            double v = c.ToDouble(CultureInfo.InvariantCulture);
            if (!double.IsFinite(v)) throw new InputException($"{Name} {Format(value)}: expected a finite number");
            var o = Option;
            bool below = o.MinExclusive ? !(v > o.Min) : !(v >= o.Min);
            bool above = o.MaxExclusive ? !(v < o.Max) : !(v <= o.Max);
            if (below || above) throw new InputException($"{Name} {Format(value)}: expected {Range()}");
        }
        return value;
    }

    /// <summary>A value written as text (the command line's own parsing does numbers; settings files and --set use this).</summary>
    public object FromText(string text)
    {
        if (OptionTable.Parser(ValueType) is { } parse) return parse(text);
        try
        {
            if (ValueType == typeof(bool)) return bool.Parse(text);
            return System.Convert.ChangeType(text, ValueType, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException or InvalidCastException)
        {
            throw new InputException($"{Name} '{text}': expected {Expected()}");
        }
    }

    private string Expected() => ValueType == typeof(bool) ? "true or false"
        : ValueType == typeof(double) || ValueType == typeof(float) ? "a number"
        : ValueType == typeof(string) ? "text" : "a whole number";

    private string? Range()
    {
        var o = Option;
        bool lo = !double.IsNegativeInfinity(o.Min), hi = !double.IsPositiveInfinity(o.Max);
        string F(double v) => v.ToString(CultureInfo.InvariantCulture);
        if (lo && hi) return $"{(o.MinExclusive ? "more than " : "")}{F(o.Min)} to {F(o.Max)}{(o.MaxExclusive ? " (exclusive)" : "")}";
        if (lo) return o.MinExclusive ? $"more than {F(o.Min)}" : $"{F(o.Min)} or more";
        if (hi) return o.MaxExclusive ? $"less than {F(o.Max)}" : $"{F(o.Max)} or less";
        return null;
    }

    private static string Format(object value) => value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value.ToString() ?? "";
}
