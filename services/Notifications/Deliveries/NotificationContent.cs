using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Experiments.Contracts.Messages;
using Experiments.Notifications.Events;

namespace Experiments.Notifications.Deliveries;

/// <summary>The bodies sent: webhook JSON envelopes and Slack Block Kit messages.</summary>
public sealed class NotificationContent(string consoleBaseUrl)
{
    /// <summary><c>{"id", "type", "time", "payload"}</c>, the same bytes on every try of a delivery.</summary>
    public static byte[] WebhookBody(NotificationEvent e)
    {
        var body = new JsonObject
        {
            ["id"] = e.EventId,
            ["type"] = e.Type,
            ["time"] = e.OccurredAt.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            ["payload"] = JsonNode.Parse(e.PayloadJson),
        };
        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    public string ConsoleLink(Guid experimentId) => $"{consoleBaseUrl.TrimEnd('/')}/console/experiments/{experimentId}";

    /// <summary>A Block Kit message: a header saying what happened, the key figures as fields, a console link.</summary>
    public byte[] SlackBody(NotificationEvent e)
    {
        var p = JsonNode.Parse(e.PayloadJson) as JsonObject ?? [];
        var name = Text(p, "name") ?? Text(p, "experiment_key") ?? "Experiment";
        var key = Text(p, "experiment_key");
        var (emoji, headline, fields) = e.Type switch
        {
            NotificationEventTypes.AboutToStart => (":hourglass_flowing_sand:", "is about to start",
                Fields(("Starts", Time(p, "starts_at")))),
            NotificationEventTypes.Started => (":rocket:", "started", Fields(("Started", Time(p, "started_at")))),
            NotificationEventTypes.Ended => (":checkered_flag:", "ended", Fields(("Ended", Time(p, "ended_at")))),
            NotificationEventTypes.SrmDetected => (":warning:", "has a sample ratio mismatch: results can't be trusted",
                Fields(("p-value", Number(p, "p_value", "G3")), ("Chi-square", Number(p, "chi_square", "F2")),
                    ("Observed", Pairs(p["observed_counts"], "N0")), ("Expected weights", Pairs(p["expected_weights"], "0.#%")))),
            NotificationEventTypes.LongRunning => (":alarm_clock:", "is past its planned end",
                Fields(("Planned end", Time(p, "planned_end_at")), ("Started", Time(p, "started_at")))),
            NotificationEventTypes.StatSigReached => (":tada:", $"reached significance on {Text(p, "metric")}",
                Fields(("Variant", $"{Text(p, "variant")} vs {Text(p, "control")}"), ("Lift", Number(p, "lift", "+0.0#%;-0.0#%")),
                    ("p-value", Number(p, "p_value", "G3")),
                    ($"{Number(p, "confidence_level", "0.#%")} interval", Interval(p, "interval_lower", "interval_upper", "+0.0#%;-0.0#%")))),
            NotificationEventTypes.BanditWeightsUpdated => (":slot_machine:", "changed its bandit allocation",
                Fields(("Weights", Pairs(p["weights"], "0.#%")))),
            NotificationEventTypes.Test => (":white_check_mark:", "test notification: this subscription works", Fields()),
            _ => (":information_source:", e.Type, Fields()),
        };

        var blocks = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "section",
                ["text"] = Markdown($"{emoji} *{Escape(name)}* {Escape(headline)}" + (key is null ? "" : $"\n`{Escape(key)}`")),
            },
        };
        if (fields.Count > 0)
        {
            blocks.Add(new JsonObject { ["type"] = "section", ["fields"] = new JsonArray([.. fields.Select(f => (JsonNode)Markdown($"*{Escape(f.Label)}*\n{Escape(f.Value)}"))]) });
        }
        var context = new JsonArray { Markdown($"{Escape(e.Type)} · {e.OccurredAt.ToUniversalTime():yyyy-MM-dd HH:mm} UTC") };
        if (e.ExperimentId is { } id)
        {
            context.Add(Markdown($"<{ConsoleLink(id)}|Open in the console>"));
        }
        blocks.Add(new JsonObject { ["type"] = "context", ["elements"] = context });

        var message = new JsonObject
        {
            ["text"] = $"{name} {headline}", // the notification's plain-text fallback
            ["blocks"] = blocks,
        };
        return Encoding.UTF8.GetBytes(message.ToJsonString());
    }

    private static List<(string Label, string Value)> Fields(params (string Label, string? Value)[] fields)
        => [.. fields.Where(f => !string.IsNullOrEmpty(f.Value)).Select(f => (f.Label, f.Value!))];

    private static JsonObject Markdown(string text) => new() { ["type"] = "mrkdwn", ["text"] = text };

    private static string Escape(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    private static string? Text(JsonObject p, string name) => p[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static string? Number(JsonObject p, string name, string format)
        => p[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d.ToString(format, CultureInfo.InvariantCulture) : null;

    /// <summary>"[lower, upper]", a missing side (unbounded) as ∓∞; none when neither side is there.</summary>
    private static string? Interval(JsonObject p, string lower, string upper, string format)
        => (Number(p, lower, format), Number(p, upper, format)) is (null, null) ? null
            : $"[{Number(p, lower, format) ?? "-∞"}, {Number(p, upper, format) ?? "+∞"}]";

    private static string? Time(JsonObject p, string name)
        => p[name] is JsonValue v && v.TryGetValue<DateTimeOffset>(out var t) ? $"{t.ToUniversalTime():yyyy-MM-dd HH:mm} UTC" : null;

    private static string? Pairs(JsonNode? node, string format)
        => node is JsonObject o && o.Count > 0
            ? string.Join(", ", o.Select(kv => $"{kv.Key}: {(kv.Value is JsonValue v && v.TryGetValue<double>(out var d) ? d.ToString(format, CultureInfo.InvariantCulture) : kv.Value?.ToJsonString())}"))
            : null;
}
