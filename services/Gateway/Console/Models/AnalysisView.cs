using System.Globalization;
using System.Text.Json.Nodes;

namespace Experiments.Gateway.Console.Models;

/// <summary>
/// The analyze response read leniently: the fields of today's API are typed, and fields the analysis grows (metrics,
/// badges, series, diagnostics, data quality) are read when present, so that the cards degrade instead of failing.
/// </summary>
public sealed class AnalysisView(JsonObject json)
{
    public JsonObject Json { get; } = json;

    public string MetricEventType => Str(Json, "metric_event_type") ?? "";
    public string Control => Str(Json, "control") ?? "";
    public string Test => Str(Json, "test") ?? "";
    public double ConfidenceLevel => Num(Json, "confidence_level") ?? 0.95;
    public string Recommendation => Str(Json, "recommendation") ?? "";
    public string? Winner => Str(Json, "winner") is { Length: > 0 } w ? w : null;
    public DateTimeOffset? ComputedAt => Str(Json, "computed_at") is { } t && DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at) ? at : null;

    public SrmView? Srm => Json["srm"] is JsonObject s ? new SrmView(Num(s, "chi_square") ?? 0, Num(s, "p_value") ?? 1, Bool(s, "detected")) : null;

    /// <summary>One metric per entry of <c>metrics[]</c> when the API gives them, else the primary metric from the top level.</summary>
    public IReadOnlyList<MetricView> Metrics
    {
        get
        {
            if (Json["metrics"] is JsonArray { Count: > 0 } metrics)
            {
                return metrics.OfType<JsonObject>().Select(m => MetricView.From(m, Str(m, "name") ?? Str(m, "event_type") ?? Str(m, "key") ?? "metric", this)).ToList();
            }
            return [MetricView.From(Json, MetricEventType is { Length: > 0 } e ? e : "primary metric", this)];
        }
    }

    public JsonObject? DataQuality => Json["data_quality"] as JsonObject;
    public JsonObject? Diagnostics => Json["diagnostics"] as JsonObject;
    public JsonObject? Filters => Json["filters"] as JsonObject;

    internal static string? Str(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    internal static double? Num(JsonNode? node, string name) => node?[name] is JsonValue v ? AsDouble(v) : null;

    internal static double? AsDouble(JsonValue v)
        => v.TryGetValue<double>(out var d) ? d : v.TryGetValue<long>(out var l) ? l : v.TryGetValue<string>(out var s)
            && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) ? p : null;

    internal static bool Bool(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    internal static double[]? Pair(JsonNode? node, string name)
        => node?[name] is JsonArray { Count: 2 } a && a[0] is JsonValue lo && a[1] is JsonValue hi && AsDouble(lo) is { } l && AsDouble(hi) is { } h ? [l, h] : null;
}

public sealed record SrmView(double ChiSquare, double PValue, bool Detected);

public sealed record VariantRow(string Key, string Name, long Exposures, long Conversions, double? Rate, double? Mean, double? ExpectedWeight);

public sealed record ComparisonRow(
    string Variant, double? ControlMean, double? Mean, double? AbsoluteLift, double? RelativeLift, double? PValue,
    double[]? CiAbsolute, double[]? CiRelative, bool Significant, double? MsprtLogLr, string? GateReason, IReadOnlyList<string> Badges);

/// <summary>A time series point: a day (or time) and a value per variant.</summary>
public sealed record SeriesPoint(string At, string Variant, double Value);

public sealed record MetricView(
    string Name, string Kind, IReadOnlyList<VariantRow> Variants, IReadOnlyList<ComparisonRow> Comparisons,
    IReadOnlyDictionary<string, IReadOnlyList<SeriesPoint>> Series)
{
    internal static MetricView From(JsonObject m, string name, AnalysisView analysis)
    {
        var variants = (m["variants"] as JsonArray ?? analysis.Json["variants"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(v => new VariantRow(
                AnalysisView.Str(v, "key") ?? "", AnalysisView.Str(v, "name") ?? AnalysisView.Str(v, "key") ?? "",
                (long)(AnalysisView.Num(v, "exposures") ?? 0), (long)(AnalysisView.Num(v, "conversions") ?? 0),
                AnalysisView.Num(v, "rate"), AnalysisView.Num(v, "mean"), AnalysisView.Num(v, "expected_weight")))
            .ToList();
        var comparisons = (m["comparisons"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(c => new ComparisonRow(
                AnalysisView.Str(c, "variant") ?? "", AnalysisView.Num(c, "control_mean"), AnalysisView.Num(c, "mean"),
                AnalysisView.Num(c, "absolute_lift"), AnalysisView.Num(c, "relative_lift"), AnalysisView.Num(c, "p_value"),
                AnalysisView.Pair(c, "ci_absolute"), AnalysisView.Pair(c, "ci_relative"), AnalysisView.Bool(c, "significant"),
                AnalysisView.Num(c, "msprt_log_lr"), AnalysisView.Str(c, "gate_reason"),
                (c["badges"] as JsonArray ?? []).Select(BadgeText).Where(b => b.Length > 0).ToList()))
            .ToList();
        var series = new Dictionary<string, IReadOnlyList<SeriesPoint>>();
        if (m["series"] is JsonObject all)
        {
            foreach (var (seriesName, points) in all)
            {
                if (ReadSeries(points) is { Count: > 0 } read)
                {
                    series[seriesName] = read;
                }
            }
        }
        return new MetricView(name, AnalysisView.Str(m, "kind") ?? AnalysisView.Str(m, "type") ?? "unique conversions", variants, comparisons, series);
    }

    private static string BadgeText(JsonNode? badge)
        => badge switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonObject o => AnalysisView.Str(o, "label") ?? AnalysisView.Str(o, "name") ?? "",
            _ => "",
        };

    /// <summary>Points as <c>[{date|day|at|time, variant, value}]</c>.</summary>
    internal static List<SeriesPoint>? ReadSeries(JsonNode? node)
        => (node as JsonArray)?.OfType<JsonObject>()
            .Select(p => (At: AnalysisView.Str(p, "date") ?? AnalysisView.Str(p, "day") ?? AnalysisView.Str(p, "at") ?? AnalysisView.Str(p, "time"),
                Variant: AnalysisView.Str(p, "variant") ?? "", Value: AnalysisView.Num(p, "value")))
            .Where(p => p.At is not null && p.Value is not null)
            .Select(p => new SeriesPoint(p.At!, p.Variant, p.Value!.Value))
            .ToList();
}
