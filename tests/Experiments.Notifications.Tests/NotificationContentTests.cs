using System.Text;
using System.Text.RegularExpressions;
using Experiments.Contracts.Messages;
using Experiments.Notifications.Deliveries;
using Experiments.Notifications.Events;

namespace Experiments.Notifications.Tests;

/// <summary>What a Slack message says when the analysis could not give a figure: the line is left out, never "+0%".</summary>
public sealed class NotificationContentTests
{
    [Fact]
    public void Stat_sig_without_a_relative_lift_or_interval_leaves_those_lines_out()
    {
        var message = new StatSigReached(Guid.NewGuid(), "p", Guid.NewGuid(), "checkout", "Checkout", "revenue", "treatment", "control",
            Lift: null, PValue: 0.004, IntervalLower: null, IntervalUpper: null, ConfidenceLevel: 0.95, DateTimeOffset.UtcNow);

        var text = SlackText(message);

        Assert.Contains("reached significance on revenue", text);
        Assert.Contains("0.004", text);
        Assert.DoesNotContain("Lift", text);
        Assert.DoesNotContain("interval", text);
        Assert.DoesNotContain("0%", text);
    }

    [Fact]
    public void Stat_sig_with_one_unbounded_side_shows_it_as_infinity()
    {
        var message = new StatSigReached(Guid.NewGuid(), "p", Guid.NewGuid(), "checkout", "Checkout", "revenue", "treatment", "control",
            Lift: 0.1, PValue: 0.004, IntervalLower: 0.02, IntervalUpper: null, ConfidenceLevel: 0.95, DateTimeOffset.UtcNow);

        var text = SlackText(message);

        Assert.Contains("+10.0%", text);
        Assert.Contains("[+2.0%, +∞]", text);
    }

    /// <summary>The Slack body with JSON's escapes decoded, as Slack shows it ('+' is escaped as \u002B).</summary>
    private static string SlackText(StatSigReached message)
        => Regex.Unescape(Encoding.UTF8.GetString(new NotificationContent("http://console.test").SlackBody(NotificationEvent.From(message))));
}
