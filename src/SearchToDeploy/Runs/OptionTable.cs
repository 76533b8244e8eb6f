using System.Collections.Concurrent;
using System.Reflection;
using SearchToDeploy.Core.Optim;
using SearchToDeploy.Core.Torch;
using SearchToDeploy.Nas.Networks;
using SearchToDeploy.Nas.Strategies;
using SearchToDeploy.Nas.Supernets;

namespace SearchToDeploy.Runs;

/// <summary>
/// The one option-override table: the <see cref="OptionAttribute"/> options an options record declares, and how a set
/// of given values becomes a new record (the record's copy, the given properties set, ranges checked). The search and
/// training commands, the pipeline's --set overrides and settings files all go through it.
/// </summary>
public static class OptionTable
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<OptionEntry>> Tables = new();

    /// <summary>Text parsers of the option types that are not numbers, booleans or text.</summary>
    private static readonly Dictionary<Type, Func<string, object>> Parsers = new()
    {
        [typeof(Precision)] = s => Precisions.Parse(s),
        [typeof(FrozenInit)] = s => FrozenInits.Parse(s),
        [typeof(ScheduleKind)] = s => LrSchedule.Parse(s),
        [typeof(NetworkKind)] = s => RetrainNetwork.ParseKind(s),
        [typeof(SearchMethod)] = s => SearchMethod.Parse(s),
    };

    public static Func<string, object>? Parser(Type type) => Parsers.GetValueOrDefault(type);

    /// <summary>The name an option value of a non-primitive type has on the command line and in settings files.</summary>
    public static string Name(Type type, object value) => value switch
    {
        Precision p => p.Name(),
        SearchMethod m => m.Name,
        NetworkKind n => RetrainNetwork.KindName(n),
        FrozenInit f => f switch { FrozenInit.KaimingNormal => "kaiming-normal", FrozenInit.KaimingUniform => "kaiming-uniform", _ => "default" },
        ScheduleKind k => k.ToString().ToLowerInvariant(),
        _ => value.ToString() ?? "",
    };

    /// <summary>Every declared option of <paramref name="options"/> with its value, keyed as settings files write them.</summary>
    public static System.Text.Json.Nodes.JsonObject Settings<T>(T options) where T : class
    {
        var o = new System.Text.Json.Nodes.JsonObject();
        foreach (var e in For<T>()) o[e.Key] = SettingsFile.Value(e, e.Property.GetValue(options));
        return o;
    }

    /// <summary>The options <typeparamref name="T"/> declares, in declaration order.</summary>
    public static IReadOnlyList<OptionEntry> For<T>() => For(typeof(T));

    public static IReadOnlyList<OptionEntry> For(Type type) => Tables.GetOrAdd(type, t =>
    {
        var entries = t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Attribute: p.GetCustomAttribute<OptionAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => new OptionEntry(x.Attribute!, x.Property))
            .ToList();
        foreach (var e in entries)
            if (e.ParsedType == typeof(string) && e.ValueType != typeof(string) && Parser(e.ValueType) is null)
                throw new InvalidOperationException($"{t.Name}.{e.Property.Name}: no text parser for {e.ValueType.Name}");
        return entries;
    });

    /// <summary>A copy of <paramref name="options"/> with the given values set (each converted and range-checked).</summary>
    public static T Apply<T>(T options, IEnumerable<(OptionEntry Entry, object? Value)> values) where T : class
    {
        var clone = (T)typeof(T).GetMethod("<Clone>$")!.Invoke(options, null)!;
        foreach (var (entry, value) in values)
            if (value is not null) entry.Property.SetValue(clone, entry.Convert(value));
        return clone;
    }

    /// <summary>
    /// A copy with values given as text by key ("lr" or "--lr"): the pipeline's --set and settings files. An unknown key
    /// is bad input naming <paramref name="source"/> and the keys there are.
    /// </summary>
    public static T ApplyText<T>(T options, IEnumerable<KeyValuePair<string, string>> values, string source) where T : class
    {
        var table = For<T>();
        var given = new List<(OptionEntry, object?)>();
        foreach (var (key, text) in values)
        {
            var entry = table.FirstOrDefault(e => e.Key.Equals(key.TrimStart('-'), StringComparison.OrdinalIgnoreCase))
                        ?? throw new InputException($"{source}: unknown setting '{key}'; expected one of {string.Join(", ", table.Select(e => e.Key))}");
            try { given.Add((entry, entry.FromText(text))); }
            catch (InputException e) { throw new InputException($"{source}: {e.Message}"); }
        }
        try { return Apply(options, given); } // where each value is range-checked
        catch (InputException e) { throw new InputException($"{source}: {e.Message}"); }
    }
}
