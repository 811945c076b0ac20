using Experiments.Gateway.Apis;

namespace Experiments.Gateway.Model;

/// <summary>
/// The body of <c>POST /v1/admin/experiments/{id}/analyze</c>; every field is optional and falls back to the
/// experiment's saved settings (<c>PUT .../settings</c>) and to the experiment's start and end for the date range.
/// </summary>
public sealed record AnalyzeBody(
    double? ConfidenceLevel = null,
    string? Test = null,
    string? Control = null,
    bool? Cuped = null,
    int? CupedWindowDays = null,
    string? Correction = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    string? Segment = null,
    IReadOnlyList<PropertyFilterRequest>? Filters = null,
    string? GroupBy = null);
