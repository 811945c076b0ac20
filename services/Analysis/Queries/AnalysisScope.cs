using Experiments.Postgres.Configuration;

namespace Experiments.Analysis.Queries;

/// <summary>The built-in segments of the filter card.</summary>
public static class Segments
{
    public const string AllExposed = "all_exposed";
    public const string Testers = "testers";
    public const string ExcludeTesters = "exclude_testers";
    public const string ExcludeVariantJumpers = "exclude_variant_jumpers";
    public const string ExcludeTestersAndVariantJumpers = "exclude_testers_and_variant_jumpers";
    public const string NewUsers = "new_users";
    public const string MobileWeb = "mobile_web";
    public const string DesktopWeb = "desktop_web";

    public static IReadOnlyList<string> BuiltIn => BuiltInSegments.All;
}

/// <summary>
/// Which exposed users an analysis counts: the experiment's flag in a project, exposures inside [From, To],
/// a segment, user-property filters (of each user's first exposure) and an optional group-by property.
/// </summary>
public sealed record AnalysisScope(
    string ProjectId,
    string FlagKey,
    DateTime From,
    DateTime To,
    string Segment,
    IReadOnlyList<string> Testers,
    IReadOnlyList<PropertyFilter> Filters,
    string? GroupBy)
{
    /// <summary>New users are those with no event before this (the range's start, else the experiment's start).</summary>
    public DateTime NewUsersSince { get; init; } = From;

    /// <summary>The experiment's variant keys, in order (assignments are counted per day for these).</summary>
    public IReadOnlyList<string> Variants { get; init; } = [];
}

/// <summary>One metric as the query computes it: per user y (after first exposure) and the CUPED covariate x (before).</summary>
public sealed record MetricQuery(MetricDefinition Definition, TimeSpan? CupedWindow);
