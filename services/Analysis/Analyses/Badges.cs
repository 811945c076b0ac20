using Experiments.Contracts.Analysis.V1;
using Experiments.Postgres.Configuration;
using Experiments.Statistics.Contracts;

namespace Experiments.Analysis.Analyses;

/// <summary>
/// The summary badges of Amplitude's "Learn from your experiment", per metric and treatment:
/// <list type="bullet">
/// <item><c>significant</c> / <c>not_significant</c>: the p-value (adjusted when a correction applies) is below alpha.</item>
/// <item><c>above_control</c> / <c>below_control</c>: significant, and the treatment's mean is above (below) the control's.</item>
/// <item>With a goal (a target relative lift): <c>above_goal</c> when the whole relative interval lies above it,
/// <c>below_goal</c> when it lies below, <c>inconclusive</c> when it contains the goal or no interval exists yet.</item>
/// </list>
/// </summary>
public static class Badges
{
    public const string Significant = "significant";
    public const string NotSignificant = "not_significant";
    public const string AboveControl = "above_control";
    public const string BelowControl = "below_control";
    public const string AboveGoal = "above_goal";
    public const string BelowGoal = "below_goal";
    public const string Inconclusive = "inconclusive";

    public static IEnumerable<string> For(ComparisonResult comparison, MetricDefinition metric, double confidenceLevel)
    {
        yield return comparison.Significant ? Significant : NotSignificant;
        if (comparison.Significant && comparison.AbsoluteLift is { } lift && lift != 0)
        {
            yield return lift > 0 ? AboveControl : BelowControl;
        }
        if (metric.Goal is { } goal)
        {
            yield return comparison.CiRelative is { Lower: var lower, Upper: var upper }
                ? lower is { } l && l > goal ? AboveGoal
                : upper is { } u && u < goal ? BelowGoal
                : Inconclusive
                : Inconclusive;
        }
    }

    /// <summary>A significant move against the metric's direction (what a guardrail watches for).</summary>
    public static bool Harms(Comparison comparison, MetricDefinition metric)
        => comparison.Significant && (metric.Direction == "decrease" ? comparison.AbsoluteLift > 0 : comparison.AbsoluteLift < 0);
}
