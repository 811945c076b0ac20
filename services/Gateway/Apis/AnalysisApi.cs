using System.Security.Claims;
using Experiments.Contracts.Analysis.V1;
using Experiments.Gateway.Auth;
using Experiments.Gateway.Data;
using Experiments.Gateway.Model;
using Grpc.Core;

namespace Experiments.Gateway.Apis;

public static class AnalysisApi
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static RouteGroupBuilder MapAnalysisApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/admin/experiments").RequireAuthorization().WithTags("Analysis");
        api.MapPost("/{id:guid}/analyze", Analyze).WithName("AnalyzeExperiment");
        return api;
    }

    private static async Task<IResult> Analyze(
        Guid id, HttpRequest http, ClaimsPrincipal user, ExperimentStore store, AnalysisConfigStore config,
        AnalysisService.AnalysisServiceClient analysis, CancellationToken ct)
    {
        // The body is optional: settings default to 95% confidence, the sequential test and the first variant as control.
        AnalyzeBody request;
        try
        {
            request = http.ContentLength is > 0 || http.Headers.TransferEncoding.Count > 0
                ? await http.ReadFromJsonAsync<AnalyzeBody>(ct) ?? new AnalyzeBody()
                : new AnalyzeBody();
        }
        catch (System.Text.Json.JsonException ex)
        {
            // The shared handler turns this into a 400 naming the JSON path, as for bound bodies.
            throw new BadHttpRequestException("The analyze body is not valid JSON.", StatusCodes.Status400BadRequest, ex);
        }

        var errors = new Validation.ValidationErrors();
        errors.CheckAnalysisSettings(request.ConfidenceLevel, request.Test, request.CupedWindowDays, request.Correction);
        if (request.From is { } from && request.To is { } to && to < from)
        {
            errors.Add("to", "'to' must not be before 'from'.");
        }
        if (request.GroupBy is { } groupBy && (string.IsNullOrWhiteSpace(groupBy) || groupBy.Length > 200))
        {
            errors.Add("group_by", "'group_by' must name a user property.");
        }
        var filters = MetricsApi.ValidateFilters(request.Filters, errors, "filters");
        if (request.Segment is { } segment && !Postgres.Configuration.BuiltInSegments.All.Contains(segment)
            && (await config.SegmentsAsync(user.ProjectId(), ct)).All(s => s.Key != segment))
        {
            errors.Add("segment", $"'segment' must be a built-in segment ({string.Join(", ", Postgres.Configuration.BuiltInSegments.All)}) or the key of a saved segment.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var experiment = await store.GetAsync(user.ProjectId(), id, ct);
        if (experiment is null)
        {
            return ExperimentsApi.NotFound(id);
        }
        if (request.Control is { } control && experiment.Variants.All(v => v.Key != control))
        {
            return errors.Add("control", $"'control' must be one of the experiment's variant keys: {string.Join(", ", experiment.Variants.Select(v => v.Key))}.").ToProblem();
        }

        try
        {
            var grpcRequest = new AnalyzeRequest
            {
                ProjectId = experiment.ProjectId,
                ExperimentId = experiment.Id.ToString(),
                ConfidenceLevel = request.ConfidenceLevel ?? 0,
                Test = request.Test ?? "",
                Control = request.Control ?? "",
                CupedWindowDays = request.CupedWindowDays ?? 0,
                Correction = request.Correction ?? "",
                Segment = request.Segment ?? "",
                GroupBy = request.GroupBy ?? "",
            };
            if (request.Cuped is { } cuped)
            {
                grpcRequest.Cuped = cuped;
            }
            if (request.From is { } rangeFrom)
            {
                grpcRequest.From = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(rangeFrom);
            }
            if (request.To is { } rangeTo)
            {
                grpcRequest.To = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(rangeTo);
            }
            grpcRequest.Filters.AddRange(filters.Select(f => new PropertyFilter { Property = f.Property, Operator = f.Operator, Values = { f.Values } }));
            var response = await analysis.AnalyzeAsync(grpcRequest, deadline: DateTime.UtcNow.Add(Deadline), cancellationToken: ct);
            return TypedResults.Ok(AnalysisResult.From(response));
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.NotFound)
        {
            return TypedResults.Problem(statusCode: ex.StatusCode == StatusCode.NotFound ? 404 : 422, title: "Cannot analyze", detail: ex.Status.Detail);
        }
        catch (RpcException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Analysis unavailable",
                detail: $"The analysis service answered {ex.StatusCode}: {ex.Status.Detail}");
        }
    }
}

/// <summary>The analysis as the admin API returns it (snake_case JSON).</summary>
public sealed record AnalysisResult(
    string ExperimentId,
    string MetricEventType,
    string Control,
    string Test,
    double ConfidenceLevel,
    IReadOnlyList<AnalysisResult.VariantSummary> Variants,
    IReadOnlyList<AnalysisResult.ComparisonResult> Comparisons,
    AnalysisResult.SrmResult? Srm,
    string Recommendation,
    string? Winner,
    DateTimeOffset? ComputedAt)
{
    // The full analysis (issue 6), as typed messages rendered by AnalysisJson.
    public bool Cuped { get; init; }

    public int CupedWindowDays { get; init; }

    public string Correction { get; init; } = "none";

    public System.Text.Json.Nodes.JsonNode? Summary { get; init; }

    public System.Text.Json.Nodes.JsonNode? DataQuality { get; init; }

    public System.Text.Json.Nodes.JsonArray Metrics { get; init; } = [];

    public System.Text.Json.Nodes.JsonNode? Charts { get; init; }

    public System.Text.Json.Nodes.JsonNode? Diagnostics { get; init; }

    public System.Text.Json.Nodes.JsonArray Groups { get; init; } = [];

    public System.Text.Json.Nodes.JsonNode? Filters { get; init; }

    public sealed record VariantSummary(string Key, string Name, long Exposures, long Conversions, double Rate, double ExpectedWeight);

    public sealed record ComparisonResult(
        string Variant, double? ControlMean, double? Mean, double? AbsoluteLift, double? RelativeLift, double? PValue,
        double[]? CiAbsolute, double[]? CiRelative, bool Significant, double? MsprtLogLr, string? GateReason);

    public sealed record SrmResult(double ChiSquare, double PValue, bool Detected);

    public static AnalysisResult From(AnalyzeResponse r) => new(
        r.ExperimentId, r.MetricEventType, r.Control, r.Test, r.ConfidenceLevel,
        r.Variants.Select(v => new VariantSummary(v.Key, v.Name, v.Exposures, v.Conversions, v.Rate, v.ExpectedWeight)).ToList(),
        r.Comparisons.Select(c => new ComparisonResult(c.Variant, c.ControlMeanOrNull, c.MeanOrNull, c.AbsoluteLiftOrNull, c.RelativeLiftOrNull,
            c.HasPValue ? c.PValue : null,
            c.CiAbsolute is { } a ? [a.Lower, a.Upper] : null,
            c.CiRelative is { } rel ? [rel.Lower, rel.Upper] : null,
            c.Significant, c.HasMsprtLogLr ? c.MsprtLogLr : null, string.IsNullOrEmpty(c.GateReason) ? null : c.GateReason)).ToList(),
        r.Srm is { } s ? new SrmResult(s.ChiSquare, s.PValue, s.Detected) : null,
        r.Recommendation,
        string.IsNullOrEmpty(r.Winner) ? null : r.Winner,
        r.ComputedAt?.ToDateTimeOffset())
    {
        Cuped = r.Cuped,
        CupedWindowDays = r.CupedWindowDays,
        Correction = string.IsNullOrEmpty(r.Correction) ? "none" : r.Correction,
        Summary = AnalysisJson.From(r.Summary),
        DataQuality = AnalysisJson.From(r.DataQuality),
        Metrics = new System.Text.Json.Nodes.JsonArray(r.Metrics.Select(m => AnalysisJson.From(m)).ToArray()),
        Charts = AnalysisJson.From(r.Charts),
        Diagnostics = AnalysisJson.From(r.Diagnostics),
        Groups = new System.Text.Json.Nodes.JsonArray(r.Groups.Select(g => AnalysisJson.From(g)).ToArray()),
        Filters = AnalysisJson.From(r.Filters),
    };
}
