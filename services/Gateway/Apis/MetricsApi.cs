using System.Security.Claims;
using Experiments.Gateway.Auth;
using Experiments.Gateway.Data;
using Experiments.Gateway.Validation;
using Experiments.Postgres.Configuration;

namespace Experiments.Gateway.Apis;

public sealed record AddMetricRequest(
    string? Key, string? Name, string? Role, string? Kind, string? EventType, string? Property, string? Direction, double? Goal, int? ConversionWindowHours);

/// <summary>Fields left out keep their current value.</summary>
public sealed record UpdateSettingsRequest(
    double? ConfidenceLevel, string? Test, string? Control, bool? Cuped, int? CupedWindowDays, string? Correction,
    DateTimeOffset? ScheduledStartAt, DateTimeOffset? ScheduledEndAt, DateTimeOffset? PlannedEndAt);

public sealed record PropertyFilterRequest(string? Property, string? Operator, IReadOnlyList<string>? Values);

public sealed record AddSegmentRequest(string? Key, string? Name, IReadOnlyList<PropertyFilterRequest>? Filters);

/// <summary>
/// Metrics (primary, secondary, guardrail), analysis settings with the schedule (scheduled start and end, planned
/// end), and saved analysis segments: the configuration behind the analysis.
/// </summary>
public static class MetricsApi
{
    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        var experiments = app.MapGroup("/v1/admin/experiments").RequireAuthorization().WithTags("Metrics and settings");
        experiments.MapGet("/{id:guid}/metrics", ListMetrics).WithName("ListMetrics");
        experiments.MapPost("/{id:guid}/metrics", AddMetric).WithName("AddMetric");
        experiments.MapDelete("/{id:guid}/metrics/{key}", RemoveMetric).WithName("RemoveMetric");
        experiments.MapGet("/{id:guid}/settings", GetSettings).WithName("GetExperimentSettings");
        experiments.MapPut("/{id:guid}/settings", UpdateSettings).WithName("UpdateExperimentSettings");

        var segments = app.MapGroup("/v1/admin/analysis-segments").RequireAuthorization().WithTags("Analysis segments");
        segments.MapGet("/", ListSegments).WithName("ListAnalysisSegments");
        segments.MapPost("/", AddSegment).WithName("AddAnalysisSegment");
        segments.MapDelete("/{key}", RemoveSegment).WithName("RemoveAnalysisSegment");
        return app;
    }

    private static async Task<IResult> ListMetrics(Guid id, ClaimsPrincipal user, ExperimentStore experiments, AnalysisConfigStore store, CancellationToken ct)
        => await experiments.GetAsync(user.ProjectId(), id, ct) is null
            ? ExperimentsApi.NotFound(id)
            : TypedResults.Ok(await store.MetricsAsync(id, ct));

    private static async Task<IResult> AddMetric(
        Guid id, AddMetricRequest request, ClaimsPrincipal user, ExperimentStore experiments, AnalysisConfigStore store, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var name = errors.RequireText("name", request.Name, 200);
        var eventType = errors.RequireText("event_type", request.EventType, 200);
        var key = request.Key?.Trim() ?? (name is null ? null : Slug.From(name));
        if (key is not null && !Slug.IsValid(key))
        {
            errors.Add("key", "'key' must be 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit.");
        }
        var role = request.Role ?? MetricRoles.Secondary;
        if (!MetricRoles.All.Contains(role))
        {
            errors.Add("role", $"'role' must be one of: {string.Join(", ", MetricRoles.All)}.");
        }
        var kind = request.Kind ?? MetricKinds.UniqueConversions;
        if (!MetricKinds.All.Contains(kind))
        {
            errors.Add("kind", $"'kind' must be one of: {string.Join(", ", MetricKinds.All)}.");
        }
        else if (MetricKinds.NeedsProperty(kind) && string.IsNullOrWhiteSpace(request.Property))
        {
            errors.Add("property", $"'property' (the numeric event property) is required for a {kind} metric.");
        }
        else if (!MetricKinds.NeedsProperty(kind) && request.Property is not null)
        {
            errors.Add("property", $"'property' applies only to property_sum and property_average metrics.");
        }
        var direction = request.Direction ?? "increase";
        if (direction is not ("increase" or "decrease"))
        {
            errors.Add("direction", "'direction' must be 'increase' or 'decrease'.");
        }
        if (request.Goal is { } goal && (!double.IsFinite(goal) || Math.Abs(goal) > 100))
        {
            errors.Add("goal", "'goal' is a relative lift, e.g. 0.05 for +5%.");
        }
        if (request.ConversionWindowHours is { } hours && (hours <= 0 || hours > 24 * 365))
        {
            errors.Add("conversion_window_hours", "'conversion_window_hours' must be between 1 and 8760.");
        }
        else if (request.ConversionWindowHours is not null && kind != MetricKinds.UniqueConversions)
        {
            errors.Add("conversion_window_hours", "'conversion_window_hours' applies only to unique_conversions metrics.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        if (await experiments.GetAsync(user.ProjectId(), id, ct) is null)
        {
            return ExperimentsApi.NotFound(id);
        }
        var result = await store.AddMetricAsync(user.ProjectId(), id,
            new MetricDefinition(key!, name!, role, kind, eventType!, request.Property?.Trim(), direction, request.Goal, request.ConversionWindowHours), user.Actor(), ct);
        return result.Value is { } metric
            ? TypedResults.Created($"/v1/admin/experiments/{id}/metrics/{metric.Key}", metric)
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Duplicate metric", detail: result.Detail,
                extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [role == MetricRoles.Primary && !result.Detail!.Contains("key", StringComparison.Ordinal) ? "role" : "key"] = [result.Detail!] } });
    }

    private static async Task<IResult> RemoveMetric(Guid id, string key, ClaimsPrincipal user, ExperimentStore experiments, AnalysisConfigStore store, CancellationToken ct)
    {
        if (await experiments.GetAsync(user.ProjectId(), id, ct) is null)
        {
            return ExperimentsApi.NotFound(id);
        }
        return await store.RemoveMetricAsync(user.ProjectId(), id, key, user.Actor(), ct)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"The experiment has no metric '{key}'.");
    }

    private static async Task<IResult> GetSettings(Guid id, ClaimsPrincipal user, ExperimentStore experiments, AnalysisConfigStore store, CancellationToken ct)
        => await experiments.GetAsync(user.ProjectId(), id, ct) is null
            ? ExperimentsApi.NotFound(id)
            : TypedResults.Ok(await store.SettingsAsync(id, ct));

    private static async Task<IResult> UpdateSettings(
        Guid id, UpdateSettingsRequest request, ClaimsPrincipal user, ExperimentStore experiments, AnalysisConfigStore store, TimeProvider time, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        errors.CheckAnalysisSettings(request.ConfidenceLevel, request.Test, request.CupedWindowDays, request.Correction);
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        var experiment = await experiments.GetAsync(user.ProjectId(), id, ct);
        if (experiment is null)
        {
            return ExperimentsApi.NotFound(id);
        }
        if (request.Control is { } control && experiment.Variants.All(v => v.Key != control))
        {
            return errors.Add("control", $"'control' must be one of the experiment's variant keys: {string.Join(", ", experiment.Variants.Select(v => v.Key))}.").ToProblem();
        }
        var current = await store.SettingsAsync(id, ct);
        var next = current with
        {
            ConfidenceLevel = request.ConfidenceLevel ?? current.ConfidenceLevel,
            Test = request.Test ?? current.Test,
            Control = request.Control ?? current.Control,
            Cuped = request.Cuped ?? current.Cuped,
            CupedWindowDays = request.CupedWindowDays ?? current.CupedWindowDays,
            Correction = request.Correction ?? current.Correction,
            ScheduledStartAt = request.ScheduledStartAt ?? current.ScheduledStartAt,
            ScheduledEndAt = request.ScheduledEndAt ?? current.ScheduledEndAt,
            PlannedEndAt = request.PlannedEndAt ?? current.PlannedEndAt,
        };
        if (request.ScheduledStartAt is not null && experiment.Status != ExperimentStatuses.Draft)
        {
            return Conflict("scheduled_start_at", $"Only a draft can be scheduled to start; the experiment is {experiment.Status}.");
        }
        if (request.ScheduledEndAt is not null && experiment.Status == ExperimentStatuses.Stopped)
        {
            return Conflict("scheduled_end_at", "The experiment is already stopped.");
        }
        if (next.ScheduledStartAt is { } start && next.ScheduledEndAt is { } end && end <= start)
        {
            return errors.Add("scheduled_end_at", "'scheduled_end_at' must be after 'scheduled_start_at'.").ToProblem();
        }
        if (request.ScheduledEndAt is { } newEnd && newEnd <= time.GetUtcNow())
        {
            return errors.Add("scheduled_end_at", "'scheduled_end_at' must be in the future.").ToProblem();
        }
        return TypedResults.Ok(await store.SaveSettingsAsync(user.ProjectId(), id, next, user.Actor(), ct));
    }

    private static async Task<IResult> ListSegments(ClaimsPrincipal user, AnalysisConfigStore store, CancellationToken ct)
        => TypedResults.Ok(await store.SegmentsAsync(user.ProjectId(), ct));

    private static async Task<IResult> AddSegment(AddSegmentRequest request, ClaimsPrincipal user, AnalysisConfigStore store, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var name = errors.RequireText("name", request.Name, 200);
        var key = request.Key?.Trim() ?? (name is null ? null : Slug.From(name));
        if (key is not null && !Slug.IsValid(key))
        {
            errors.Add("key", "'key' must be 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit.");
        }
        if (key is not null && BuiltInSegments.All.Contains(key))
        {
            errors.Add("key", $"'{key}' is a built-in segment.");
        }
        var filters = ValidateFilters(request.Filters, errors, "filters");
        if (filters.Count == 0 && !errors.Any)
        {
            errors.Add("filters", "'filters' needs at least one user-property filter.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        var result = await store.AddSegmentAsync(user.ProjectId(), new SavedSegment(key!, name!, filters), user.Actor(), ct);
        return result.Value is { } segment
            ? TypedResults.Created($"/v1/admin/analysis-segments/{segment.Key}", segment)
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Duplicate key", detail: result.Detail,
                extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["key"] = [result.Detail!] } });
    }

    private static async Task<IResult> RemoveSegment(string key, ClaimsPrincipal user, AnalysisConfigStore store, CancellationToken ct)
        => await store.RemoveSegmentAsync(user.ProjectId(), key, user.Actor(), ct)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"No analysis segment '{key}'.");

    /// <summary>Checks user-property filters; errors name the field, e.g. <c>filters[1].values</c>.</summary>
    internal static List<PropertyFilter> ValidateFilters(IReadOnlyList<PropertyFilterRequest>? requests, ValidationErrors errors, string field)
    {
        var filters = new List<PropertyFilter>();
        for (var i = 0; i < (requests?.Count ?? 0); i++)
        {
            var f = requests![i];
            var property = errors.RequireText($"{field}[{i}].property", f?.Property, 200);
            var op = string.IsNullOrEmpty(f?.Operator) ? TargetingOperators.Is : f.Operator;
            if (PropertyFilter.Problem(op, f?.Values) is { } problem)
            {
                errors.Add($"{field}[{i}].{problem.Field}", $"'{field}[{i}].{problem.Field}' {problem.Message}");
                continue;
            }
            var values = f!.Values!;
            if (property is not null)
            {
                filters.Add(new PropertyFilter(property, op, values));
            }
        }
        return filters;
    }

    private static IResult Conflict(string field, string detail)
        => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not allowed in this status", detail: detail,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [detail] } });
}
