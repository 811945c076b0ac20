using System.Security.Claims;
using Experiments.Contracts.Analysis.V1;
using Experiments.Gateway.Auth;
using Experiments.Gateway.Validation;
using Grpc.Core;

namespace Experiments.Gateway.Apis;

/// <summary>
/// <c>GET /v1/admin/experiments/results</c>: each experiment's latest stored analysis result (winner, primary metric
/// p-value, SRM, when it was computed), read by the analysis service from its snapshots in PostgreSQL (gRPC
/// <c>LatestResults</c>), so listing them costs no ClickHouse analysis. The admin key's project only.
/// </summary>
public static class LatestResultsApi
{
    public const int MaxExperimentIds = 1000;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>Mapped on the experiments group (before <c>/{id:guid}</c> routes, which a non-UUID segment never matches).</summary>
    public static RouteHandlerBuilder MapLatestResults(this IEndpointRouteBuilder experiments)
        => experiments.MapGet("/results", ListLatestResults)
            .WithName("ListLatestResults")
            .WithTags("Analysis")
            .WithSummary("Latest stored analysis result per experiment")
            .WithDescription("The newest snapshot of each experiment of the key's project that the analysis service stored (scheduled, after a change, or final after a stop); experiments never analysed are absent. Filter with repeated experiment_id.")
            .Produces<LatestResultsBody>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

    private static async Task<IResult> ListLatestResults(
        string? project_id, string[]? experiment_id, ClaimsPrincipal user, AnalysisService.AnalysisServiceClient analysis, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var ids = experiment_id ?? [];
        if (ids.Length > MaxExperimentIds)
        {
            errors.Add("experiment_id", $"'experiment_id' may be given at most {MaxExperimentIds} times.");
        }
        for (var i = 0; i < ids.Length && !errors.Any; i++)
        {
            if (!Guid.TryParse(ids[i], out _))
            {
                errors.Add("experiment_id", $"'experiment_id' must be experiment UUIDs; '{Truncate(ids[i])}' is not one.");
            }
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        if (ExperimentsApi.Forbidden(user, project_id) is { } forbidden)
        {
            return forbidden;
        }

        try
        {
            var request = new LatestResultsRequest { ProjectId = user.ProjectId() };
            request.ExperimentIds.AddRange(ids.Select(id => Guid.Parse(id).ToString()).Distinct());
            var response = await analysis.LatestResultsAsync(request, deadline: DateTime.UtcNow.Add(Deadline), cancellationToken: ct);
            return TypedResults.Ok(new LatestResultsBody(response.Results.Select(LatestResultBody.From).ToList()));
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: ex.Status.Detail);
        }
        catch (RpcException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Analysis unavailable",
                detail: $"The analysis service answered {ex.StatusCode}: {ex.Status.Detail}");
        }
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";
}

/// <summary>The latest stored results (snake_case JSON), newest computed_at first.</summary>
public sealed record LatestResultsBody(IReadOnlyList<LatestResultBody> Results);

/// <summary>One experiment's latest stored analysis result.</summary>
/// <param name="Winner">Key of the winning variant; null when there is none. The analysis summary's winner stored with the snapshot; for a snapshot stored before verdicts were (<paramref name="VerdictStored"/> false) derived from its primary-metric comparisons with today's control and direction (none after an SRM alert).</param>
/// <param name="SnapshotDate">The UTC day the snapshot belongs to (a stopped experiment's final analysis: its stop day).</param>
/// <param name="PrimaryPValue">The primary metric's p-value (most significant treatment, else the lowest); null when all were held back.</param>
/// <param name="SrmDetected">The snapshot's sample ratio mismatch; for a snapshot stored before verdicts were: an SRM alert was raised for the experiment.</param>
/// <param name="Comparisons">The primary metric's treatments as stored; intervals are [lower, upper] with null for an unbounded or unstored side.</param>
/// <param name="Recommendation">The analysis summary's recommendation; null for a snapshot stored before verdicts were.</param>
/// <param name="Control">The control of the snapshot's analysis (an old snapshot: today's control).</param>
/// <param name="SrmPValue">The p-value of the snapshot's sample-ratio test; null for an old snapshot.</param>
/// <param name="Variants">The primary metric's per-variant exposures and conversions of the snapshot; empty for an old snapshot.</param>
/// <param name="VerdictStored">Winner, recommendation, control, SRM and variants are the snapshot's own.</param>
public sealed record LatestResultBody(
    Guid ExperimentId,
    DateTimeOffset ComputedAt,
    string SnapshotDate,
    string? Winner,
    string PrimaryMetric,
    bool Significant,
    double? PrimaryPValue,
    bool SrmDetected,
    IReadOnlyList<LatestComparisonBody> Comparisons,
    string? Recommendation,
    string? Control,
    double? SrmPValue,
    IReadOnlyList<LatestVariantBody> Variants,
    bool VerdictStored)
{
    public static LatestResultBody From(LatestResult r) => new(
        Guid.Parse(r.ExperimentId),
        r.ComputedAt.ToDateTimeOffset(),
        r.SnapshotDate,
        string.IsNullOrEmpty(r.Winner) ? null : r.Winner,
        r.PrimaryMetric,
        r.Significant,
        r.HasPrimaryPValue ? r.PrimaryPValue : null,
        r.SrmDetected,
        r.Comparisons.Select(c => new LatestComparisonBody(c.Variant, c.ControlMeanOrNull, c.MeanOrNull, c.AbsoluteLiftOrNull, c.RelativeLiftOrNull,
            c.HasPValue ? c.PValue : null, Bounds(c.CiAbsolute), Bounds(c.CiRelative), c.Significant)).ToList(),
        string.IsNullOrEmpty(r.Recommendation) ? null : r.Recommendation,
        string.IsNullOrEmpty(r.Control) ? null : r.Control,
        r.HasSrmPValue ? Finite(r.SrmPValue) : null,
        r.Variants.Select(v => new LatestVariantBody(v.Key, v.Name, v.Exposures, v.Conversions, Finite(v.Rate))).ToList(),
        r.VerdictStored);

    private static double?[]? Bounds(Contracts.Analysis.V1.Interval? interval)
        => interval is null ? null : [Finite(interval.Lower), Finite(interval.Upper)];

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

public sealed record LatestComparisonBody(
    string Variant, double? ControlMean, double? Mean, double? AbsoluteLift, double? RelativeLift, double? PValue,
    double?[]? CiAbsolute, double?[]? CiRelative, bool Significant);

/// <summary>One variant's primary-metric figures in the stored snapshot: exposed users, converters among them, their ratio.</summary>
public sealed record LatestVariantBody(string Key, string Name, long Exposures, long Conversions, double? Rate);
