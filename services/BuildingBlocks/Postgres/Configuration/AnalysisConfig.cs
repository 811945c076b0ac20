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

/// <summary>A filter on a user property (of the user's first exposure): <c>is</c> one of the values, or <c>is_not</c>.</summary>
public sealed record PropertyFilter(string Property, string Operator, IReadOnlyList<string> Values)
{
    public const string Is = "is";
    public const string IsNot = "is_not";
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
