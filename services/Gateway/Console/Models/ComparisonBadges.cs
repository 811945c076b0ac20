namespace Experiments.Gateway.Console.Models;

public sealed record BadgeView(string Text, string Kind);

/// <summary>
/// The Summary card's badges as Amplitude defines them: the API's own badges when it sends them; otherwise
/// Significant / Not significant from the interval, Above / Below control for a significant lift, Inconclusive otherwise.
/// </summary>
public static class ComparisonBadges
{
    public static IReadOnlyList<BadgeView> For(ComparisonRow comparison)
    {
        if (comparison.Badges.Count > 0)
        {
            return comparison.Badges.Select(b => new BadgeView(Words(b), KindOf(Words(b)))).ToList();
        }
        if (comparison.GateReason is not null)
        {
            return [new BadgeView("Inconclusive", "warn"), new BadgeView("Held back by data quality", "warn")];
        }
        if (!comparison.Significant)
        {
            return [new BadgeView("Not significant", "neutral"), new BadgeView("Inconclusive", "warn")];
        }
        return comparison.RelativeLift >= 0 || comparison.AbsoluteLift >= 0
            ? [new BadgeView("Significant", "good"), new BadgeView("Above control", "good")]
            : [new BadgeView("Significant", "bad"), new BadgeView("Below control", "bad")];
    }

    /// <summary>The API's codes (<c>above_control</c>) as words (<c>Above control</c>).</summary>
    public static string Words(string badge)
    {
        var text = badge.Replace('_', ' ').Trim();
        return text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
    }

    public static BadgeView From(string badge) => new(Words(badge), KindOf(Words(badge)));

    private static string KindOf(string badge) => badge.ToLowerInvariant() switch
    {
        var b when b.Contains("not significant", StringComparison.Ordinal) => "neutral",
        var b when b.Contains("inconclusive", StringComparison.Ordinal) => "warn",
        var b when b.Contains("below", StringComparison.Ordinal) => "bad",
        var b when b.Contains("significant", StringComparison.Ordinal) || b.Contains("above", StringComparison.Ordinal) => "good",
        _ => "info",
    };
}
