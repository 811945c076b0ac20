using static Experiments.Postgres.Configuration.TargetingOperators;

namespace Experiments.Postgres.Configuration;

/// <summary>Metric roles: the primary metric drives the recommendation.</summary>
public static class MetricRoles
{
    public const string Primary = "primary";
    public const string Secondary = "secondary";
    public const string Guardrail = "guardrail";

    public static readonly IReadOnlyList<string> All = [Primary, Secondary, Guardrail];
}

/// <summary>How a metric reduces a user's events after their first exposure to one value.</summary>
public static class MetricKinds
{
    /// <summary>1 when the user did the event at or after first exposure (within the conversion window), else 0.</summary>
    public const string UniqueConversions = "unique_conversions";

    /// <summary>The number of the user's events.</summary>
    public const string EventTotals = "event_totals";

    /// <summary>The sum of a numeric event property over the user's events.</summary>
    public const string PropertySum = "property_sum";

    /// <summary>The mean of a numeric event property over the user's events; users without the event are left out.</summary>
    public const string PropertyAverage = "property_average";

    public static readonly IReadOnlyList<string> All = [UniqueConversions, EventTotals, PropertySum, PropertyAverage];

    public static bool NeedsProperty(string kind) => kind is PropertySum or PropertyAverage;
}

/// <summary>One metric of an experiment (gateway.experiment_metrics).</summary>
/// <param name="Goal">Target relative lift (0.05 = +5%), in the metric's direction; null when none was set.</param>
public sealed record MetricDefinition(
    string Key,
    string Name,
    string Role,
    string Kind,
    string EventType,
    string? Property,
    string Direction,
    double? Goal,
    int? ConversionWindowHours);

/// <summary>An experiment's analysis settings and schedule (gateway.experiment_settings); defaults when no row exists.</summary>
public sealed record ExperimentSettings(
    double ConfidenceLevel = 0.95,
    string Test = "sequential",
    string? Control = null,
    bool Cuped = false,
    int CupedWindowDays = 14,
    string Correction = "none",
    DateTimeOffset? ScheduledStartAt = null,
    DateTimeOffset? ScheduledEndAt = null,
    DateTimeOffset? PlannedEndAt = null);

/// <summary>
/// A filter on a user property (of the user's first exposure). Operators are the targeting rules' names
/// (<see cref="TargetingOperators"/>, one vocabulary for both) except the regex ones; <c>is_not</c> is still read
/// as <c>is not</c>. A filter with several values matches when any value does (set operators: see each).
/// </summary>
public sealed record PropertyFilter(string Property, string Operator, IReadOnlyList<string> Values)
{
    /// <summary>The name used before the targeting vocabulary was adopted; means <see cref="IsNot"/>.</summary>
    public const string LegacyIsNot = "is_not";

    /// <summary>The value that matches a user without the property (Amplitude's <c>(none)</c>).</summary>
    public const string None = "(none)";

    /// <summary>Every operator the analysis accepts (the targeting ones but regex), in the order the filter card lists them.</summary>
    public static readonly IReadOnlyList<string> Operators =
        TargetingOperators.Ordered.Where(o => o is not (RegexMatch or RegexDoesNotMatch)).ToList();

    private static readonly System.Text.RegularExpressions.Regex Version =
        new(@"^(\d+)\.(\d+)(\.(\d+)(-(([-A-Za-z0-9_]+\.?)*))?)?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>The operator with <see cref="LegacyIsNot"/> read as <see cref="IsNot"/>.</summary>
    public string CanonicalOperator => Operator == LegacyIsNot ? IsNot : Operator;

    public static bool IsNumeric(string op) => op is Less or LessOrEqual or Greater or GreaterOrEqual;

    public static bool IsVersion(string op) => op is VersionLess or VersionLessOrEqual or VersionGreater or VersionGreaterOrEqual;

    public static bool IsSet(string op) => op is SetIs or SetIsNot or SetContains or SetDoesNotContain or SetContainsAny or SetDoesNotContainAny;

    /// <summary>A number as the numeric operators read it (invariant, e.g. <c>12.5</c>, <c>-3</c>, <c>1e3</c>).</summary>
    public static bool TryNumber(string text, out double value)
        => double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>Amplitude's version form <c>major.minor(.patch(-prerelease)?)?</c>.</summary>
    public static bool TryVersion(string text, out (double Major, double Minor, double Patch, string? PreRelease) version)
    {
        version = default;
        var m = Version.Match(text);
        if (!m.Success)
        {
            return false;
        }
        static double Number(string digits) => double.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        version = (Number(m.Groups[1].Value), Number(m.Groups[2].Value), m.Groups[4].Success ? Number(m.Groups[4].Value) : 0,
            m.Groups[6].Success && m.Groups[6].Value.Length > 0 ? m.Groups[6].Value : null);
        return true;
    }

    /// <summary>
    /// What is wrong with a filter's operator and values, as (field, message) with the field relative to the filter
    /// (<c>operator</c> or <c>values</c>); null when it is fine. A missing operator means <see cref="Is"/>.
    /// </summary>
    public static (string Field, string Message)? Problem(string? op, IReadOnlyList<string?>? values)
    {
        op = string.IsNullOrEmpty(op) ? Is : op;
        if (op != LegacyIsNot && !Operators.Contains(op))
        {
            return ("operator", $"must be one of: {string.Join(", ", Operators)}.");
        }
        if (values is not { Count: > 0 } || values.Any(string.IsNullOrEmpty))
        {
            return ("values", "needs at least one non-empty value.");
        }
        if (IsNumeric(op) && values.FirstOrDefault(v => v != None && !TryNumber(v!, out _)) is { } notNumber)
        {
            return ("values", $"'{notNumber}' is not a number; '{op}' compares numbers.");
        }
        if (IsVersion(op) && values.FirstOrDefault(v => v != None && !TryVersion(v!, out _)) is { } notVersion)
        {
            return ("values", $"'{notVersion}' is not a version (major.minor, major.minor.patch or major.minor.patch-prerelease); '{op}' compares versions.");
        }
        return null;
    }
}

/// <summary>A saved custom segment of the analysis filter card (gateway.analysis_segments).</summary>
public sealed record SavedSegment(string Key, string Name, IReadOnlyList<PropertyFilter> Filters);

/// <summary>The built-in segments of the analysis filter card (a saved segment can't take these keys).</summary>
public static class BuiltInSegments
{
    public static readonly IReadOnlyList<string> All =
    [
        "all_exposed", "testers", "exclude_testers", "exclude_variant_jumpers", "exclude_testers_and_variant_jumpers",
        "new_users", "mobile_web", "desktop_web",
    ];
}
