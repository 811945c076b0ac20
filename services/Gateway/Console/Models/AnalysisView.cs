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
                return metrics.OfType<JsonObject>().Select(m => MetricView.From(m, this)).ToList();
            }
            return [MetricView.From(Json, this)];
        }
    }

    public JsonObject? DataQuality => Json["data_quality"] as JsonObject;
    public JsonObject? Summary => Json["summary"] as JsonObject;
    public JsonObject? Charts => Json["charts"] as JsonObject;

    /// <summary>
    /// A chart's series (<c>charts.NAME</c> or <c>diagnostics.NAME</c>: <c>[{variant, metric, points: [{date, value}]}]</c>),
    /// for one metric when given (series without a metric belong to every metric). Empty when the API has none.
    /// </summary>
    public IReadOnlyList<SeriesView> Series(string section, string name, MetricView? metric = null)
        => (Json[section]?[name] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(s => new SeriesView(Str(s, "variant") ?? "", Str(s, "metric") ?? "",
                (s["points"] as JsonArray ?? []).OfType<JsonObject>()
                    .Where(p => Str(p, "date") is not null && Num(p, "value") is not null)
                    .Select(p => new SeriesPointView(Str(p, "date")!, Num(p, "value")!.Value)).ToList()))
            .Where(s => metric is null || s.Metric.Length == 0 || s.Metric == metric.Key || s.Metric == metric.Name)
            .Where(s => s.Points.Count > 0)
            .ToList();
    public JsonObject? Diagnostics => Json["diagnostics"] as JsonObject;
    public JsonObject? Filters => Json["filters"] as JsonObject;

    /// <summary>The results per value of the group-by property (<c>groups[]</c>: value, exposures, srm, metrics), in the API's order.</summary>
    public IReadOnlyList<GroupView> Groups
        => (Json["groups"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(g => new GroupView(
                Str(g, "value") ?? "",
                (long)(Num(g, "exposures") ?? 0),
                g["srm"] is JsonObject s ? new SrmView(Num(s, "chi_square") ?? 0, Num(s, "p_value") ?? 1, Bool(s, "detected")) : null,
                (g["metrics"] as JsonArray ?? []).OfType<JsonObject>().Select(m => MetricView.From(m, this)).ToList()))
            .ToList();

    internal static string? Str(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    internal static double? Num(JsonNode? node, string name) => node?[name] is JsonValue v ? AsDouble(v) : null;

    internal static double? AsDouble(JsonValue v)
        => v.TryGetValue<double>(out var d) ? d : v.TryGetValue<long>(out var l) ? l : v.TryGetValue<string>(out var s)
            && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) ? p : null;

    internal static bool Bool(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    /// <summary>An interval as <c>[lower, upper]</c> or <c>{lower, upper}</c>.</summary>
    internal static double[]? Pair(JsonNode? node, string name) => node?[name] switch
    {
        JsonArray { Count: 2 } a when a[0] is JsonValue lo && a[1] is JsonValue hi && AsDouble(lo) is { } l && AsDouble(hi) is { } h => [l, h],
        JsonObject o when Num(o, "lower") is { } l && Num(o, "upper") is { } h => [l, h],
        _ => null,
    };
}

public sealed record SrmView(double ChiSquare, double PValue, bool Detected);

/// <summary>One value of the group-by property: its users (every variant) and every metric's results over them.</summary>
public sealed record GroupView(string Value, long Exposures, SrmView? Srm, IReadOnlyList<MetricView> Metrics)
{
    /// <summary>The value as shown: users without the property are grouped under "(none)".</summary>
    public string Label => Value.Length == 0 ? "(none)" : Value;
}

public sealed record VariantRow(string Key, string Name, long Exposures, long Conversions, double? Rate, double? Mean, double? ExpectedWeight, double[]? Ci);

public sealed record ComparisonRow(
    string Variant, double? ControlMean, double? Mean, double? AbsoluteLift, double? RelativeLift, double? PValue,
    double[]? CiAbsolute, double[]? CiRelative, bool Significant, double? MsprtLogLr, string? GateReason, IReadOnlyList<string> Badges);

public sealed record SeriesPointView(string Date, double Value);

public sealed record SeriesView(string Variant, string Metric, IReadOnlyList<SeriesPointView> Points);

public sealed record MetricView(
    string Key, string Name, string Role, string Kind, string? Direction, double? Goal, IReadOnlyList<VariantRow> Variants, IReadOnlyList<ComparisonRow> Comparisons)
{
    public bool IsRate => Kind is "unique conversions" or "unique_conversions" or "binary" or "";

    internal static MetricView From(JsonObject m, AnalysisView analysis)
    {
        var topLevel = ReferenceEquals(m, analysis.Json);
        var key = topLevel ? analysis.MetricEventType : AnalysisView.Str(m, "key") ?? "";
        var name = (topLevel ? null : AnalysisView.Str(m, "name")) is { Length: > 0 } n ? n
            : AnalysisView.Str(m, "event_type") is { Length: > 0 } e ? e
            : key is { Length: > 0 } ? key : "primary metric";
        var variants = (m["variants"] as JsonArray ?? analysis.Json["variants"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(v => new VariantRow(
                AnalysisView.Str(v, "key") ?? "", AnalysisView.Str(v, "name") ?? AnalysisView.Str(v, "key") ?? "",
                (long)(AnalysisView.Num(v, "exposures") ?? 0), (long)(AnalysisView.Num(v, "conversions") ?? 0),
                AnalysisView.Num(v, "rate"), AnalysisView.Num(v, "mean"),
                AnalysisView.Num(v, "expected_weight") ?? ExpectedWeight(analysis, AnalysisView.Str(v, "key")), AnalysisView.Pair(v, "ci")))
            .ToList();
        var comparisons = (m["comparisons"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(c => new ComparisonRow(
                AnalysisView.Str(c, "variant") ?? "", AnalysisView.Num(c, "control_mean"), AnalysisView.Num(c, "mean"),
                AnalysisView.Num(c, "absolute_lift"), AnalysisView.Num(c, "relative_lift"), AnalysisView.Num(c, "p_value"),
                AnalysisView.Pair(c, "ci_absolute"), AnalysisView.Pair(c, "ci_relative"), AnalysisView.Bool(c, "significant"),
                AnalysisView.Num(c, "msprt_log_lr"), AnalysisView.Str(c, "gate_reason") is { Length: > 0 } gate ? gate : null,
                (c["badges"] as JsonArray ?? []).Select(BadgeText).Where(b => b.Length > 0).ToList()))
            .ToList();
        return new MetricView(key, name, topLevel ? "primary" : AnalysisView.Str(m, "role") ?? "", topLevel ? "unique_conversions" : AnalysisView.Str(m, "kind") ?? "",
            AnalysisView.Str(m, "direction"), AnalysisView.Num(m, "goal"), variants, comparisons);
    }

    private static double? ExpectedWeight(AnalysisView analysis, string? key)
        => (analysis.Json["variants"] as JsonArray ?? []).OfType<JsonObject>().FirstOrDefault(v => AnalysisView.Str(v, "key") == key) is { } top
            ? AnalysisView.Num(top, "expected_weight")
            : null;

    private static string BadgeText(JsonNode? badge)
        => badge switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonObject o => AnalysisView.Str(o, "label") ?? AnalysisView.Str(o, "name") ?? "",
            _ => "",
        };
}
