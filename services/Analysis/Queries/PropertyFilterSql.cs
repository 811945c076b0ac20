using Experiments.ClickHouse;
using Experiments.Postgres.Configuration;

namespace Experiments.Analysis.Queries;

/// <summary>
/// A user-property filter of the filter card as a ClickHouse condition on the property's value, with the targeting
/// operators' meaning (Amplitude's evaluation, as clients/Sdk/Evaluation/FlagSet.cs implements it):
/// <list type="bullet">
/// <item>A missing property (the value is <c>''</c>: absent and empty read the same) matches the positive operators
/// only when the values hold <c>(none)</c>, the negative ones (<c>is not</c>, <c>does not contain</c>, <c>set does not
/// contain</c>, <c>set does not contain any</c>) unless they do; <c>starts with</c> and <c>set is not</c> never.</item>
/// <item>Several values: <c>is</c>/<c>contains</c>/<c>starts with</c>/comparisons match when any value does; the
/// negative forms when none does.</item>
/// <item><c>contains</c> ignores case; <c>is</c> and <c>starts with</c> don't.</item>
/// <item><c>less</c> ... <c>greater or equal</c> compare numbers; a value that isn't a number matches none.</item>
/// <item><c>version ...</c> compare <c>major.minor(.patch(-prerelease)?)?</c> (a prerelease sorts before its release,
/// prereleases compare as text); a value that isn't a version is compared as text, as Amplitude does.</item>
/// <item>A value written <c>[...]</c> is a JSON array: the set operators compare its elements with the values as sets
/// (<c>set is</c> equal, <c>set contains</c> all, <c>set contains any</c> any), the others match when any element
/// does; set operators match no value that isn't an array.</item>
/// </list>
/// ClickHouse 18.16 has neither JSON nor version functions: arrays are read with a regex over the JSON text and
/// versions are split into a (major, minor, patch, release, prerelease) tuple, compared as tuples.
/// </summary>
public static class PropertyFilterSql
{
    private const string VersionPattern = @"^(\d+)\.(\d+)(\.(\d+)(-(([-\w]+\.?)*))?)?$";

    /// <summary>A JSON array's elements: strings (with escapes) or bare scalars.</summary>
    private const string ElementPattern = @"""(?:[^""\\]|\\.)*""|[^,\[\]\s""]+";

    private static readonly ClickHouseSql Element = ClickHouseSql.Raw("x");

    /// <summary>The condition <paramref name="filter"/> puts on <paramref name="value"/> (the property's value as a string).</summary>
    public static ClickHouseSql Condition(PropertyFilter filter, ClickHouseSql value)
    {
        var op = filter.CanonicalOperator;
        var values = filter.Values.ToArray();
        var none = values.Contains(PropertyFilter.None);
        var absent = op switch
        {
            TargetingOperators.IsNot or TargetingOperators.DoesNotContain or TargetingOperators.SetDoesNotContain or TargetingOperators.SetDoesNotContainAny => !none,
            TargetingOperators.StartsWith or TargetingOperators.SetIsNot => false,
            _ => none,
        };
        var isArray = ClickHouseSql.Format($"match({value}, '^\\\\[.*\\\\]$')");
        var elements = ClickHouseSql.Format($$"""
            arrayFilter(x -> x != '', arrayMap(x -> if(startsWith(x, '"'), visitParamExtractString(concat('{"e":', x, '}'), 'e'), if(x = 'null', '', x)), extractAll({{value}}, {{ElementPattern}})))
            """);
        var present = PropertyFilter.IsSet(op)
            ? ClickHouseSql.Format($"if({isArray}, {Set(op, values, elements)}, 0)")
            : ClickHouseSql.Format($"if({isArray}, arrayExists(x -> {Scalar(op, values, Element)}, {elements}), {Scalar(op, values, value)})");
        return ClickHouseSql.Format($"if({value} = '', {(absent ? 1 : 0)}, {present})");
    }

    private static ClickHouseSql Set(string op, string[] values, ClickHouseSql elements) => op switch
    {
        TargetingOperators.SetIs => ClickHouseSql.Format($"(hasAll({elements}, {values}) AND hasAll({values}, {elements}))"),
        TargetingOperators.SetIsNot => ClickHouseSql.Format($"NOT (hasAll({elements}, {values}) AND hasAll({values}, {elements}))"),
        TargetingOperators.SetContains => ClickHouseSql.Format($"hasAll({elements}, {values})"),
        TargetingOperators.SetDoesNotContain => ClickHouseSql.Format($"NOT hasAll({elements}, {values})"),
        TargetingOperators.SetContainsAny => ClickHouseSql.Format($"hasAny({elements}, {values})"),
        TargetingOperators.SetDoesNotContainAny => ClickHouseSql.Format($"NOT hasAny({elements}, {values})"),
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Not a set operator."),
    };

    /// <summary>The condition on one scalar value <paramref name="x"/>.</summary>
    private static ClickHouseSql Scalar(string op, string[] values, ClickHouseSql x)
    {
        switch (op)
        {
            case TargetingOperators.Is:
                return ClickHouseSql.Format($"has({values}, {x})");
            case TargetingOperators.IsNot:
                return ClickHouseSql.Format($"NOT has({values}, {x})");
            case TargetingOperators.Contains:
                return Any(values.Select(v => ClickHouseSql.Format($"positionCaseInsensitiveUTF8({x}, {v}) > 0")));
            case TargetingOperators.DoesNotContain:
                return ClickHouseSql.Format($"NOT {Any(values.Select(v => ClickHouseSql.Format($"positionCaseInsensitiveUTF8({x}, {v}) > 0")))}");
            case TargetingOperators.StartsWith:
                return Any(values.Select(v => ClickHouseSql.Format($"startsWith({x}, {v})")));
        }
        var comparison = Comparison(op);
        if (PropertyFilter.IsNumeric(op))
        {
            var numbers = values.Select(v => PropertyFilter.TryNumber(v, out var n) ? n : (double?)null).OfType<double>().ToArray();
            return numbers.Length == 0
                ? ClickHouseSql.Raw("0")
                : Any(numbers.Select(n => ClickHouseSql.Format($"ifNull(toFloat64OrNull({x}) {comparison} {n}, 0)")));
        }
        if (PropertyFilter.IsVersion(op))
        {
            var versions = values
                .Select(v => PropertyFilter.TryVersion(v, out var parsed) ? parsed : ((double, double, double, string?)?)null)
                .OfType<(double Major, double Minor, double Patch, string? PreRelease)>().ToArray();
            if (versions.Length == 0)
            {
                return ClickHouseSql.Raw("0");
            }
            var dash = ClickHouseSql.Format($"position({x}, '-')");
            var parts = ClickHouseSql.Format($"splitByChar('.', if({dash} > 0, substring({x}, 1, {dash} - 1), {x}))");
            var pre = ClickHouseSql.Format($"if({dash} > 0, substring({x}, {dash} + 1), '')");
            var tuple = ClickHouseSql.Format(
                $"tuple(toFloat64OrZero({parts}[1]), toFloat64OrZero({parts}[2]), toFloat64OrZero({parts}[3]), {pre} = '', {pre})");
            var asVersions = Any(versions.Select(v => ClickHouseSql.Format(
                $"{tuple} {comparison} tuple({v.Major}, {v.Minor}, {v.Patch}, {(v.PreRelease is null ? 1 : 0)}, {v.PreRelease ?? ""})")));
            var asText = Any(values.Select(v => ClickHouseSql.Format($"{x} {comparison} {v}")));
            return ClickHouseSql.Format($"if(match({x}, {VersionPattern}), {asVersions}, {asText})");
        }
        throw new ArgumentOutOfRangeException(nameof(op), op, "Not a property-filter operator.");
    }

    private static ClickHouseSql Comparison(string op) => ClickHouseSql.Raw(op switch
    {
        TargetingOperators.Less or TargetingOperators.VersionLess => "<",
        TargetingOperators.LessOrEqual or TargetingOperators.VersionLessOrEqual => "<=",
        TargetingOperators.Greater or TargetingOperators.VersionGreater => ">",
        TargetingOperators.GreaterOrEqual or TargetingOperators.VersionGreaterOrEqual => ">=",
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "Not a comparison."),
    });

    private static ClickHouseSql Any(IEnumerable<ClickHouseSql> conditions)
        => ClickHouseSql.Raw("(" + string.Join(" OR ", conditions.Select(c => c.Text)) + ")");
}
