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
/// <param name="Winner">Key of the winning variant; null when there is none (derived from the stored primary-metric comparisons with the analysis summary's rule; none after an SRM alert).</param>
/// <param name="SnapshotDate">The UTC day the snapshot belongs to (a stopped experiment's final analysis: its stop day).</param>
/// <param name="PrimaryPValue">The primary metric's p-value (most significant treatment, else the lowest); null when all were held back.</param>
/// <param name="SrmDetected">An SRM alert was raised for the experiment.</param>
/// <param name="Comparisons">The primary metric's treatments as stored; intervals are [lower, upper] with null for an unbounded or unstored side.</param>
public sealed record LatestResultBody(
    Guid ExperimentId,
    DateTimeOffset ComputedAt,
    string SnapshotDate,
    string? Winner,
    string PrimaryMetric,
    bool Significant,
    double? PrimaryPValue,
    bool SrmDetected,
    IReadOnlyList<LatestComparisonBody> Comparisons)
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
        r.Comparisons.Select(c => new LatestComparisonBody(c.Variant, c.ControlMean, c.Mean, c.AbsoluteLift, c.RelativeLift,
            c.HasPValue ? c.PValue : null, Bounds(c.CiAbsolute), Bounds(c.CiRelative), c.Significant)).ToList());

    private static double?[]? Bounds(Contracts.Analysis.V1.Interval? interval)
        => interval is null ? null : [Finite(interval.Lower), Finite(interval.Upper)];

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

public sealed record LatestComparisonBody(
    string Variant, double ControlMean, double Mean, double AbsoluteLift, double RelativeLift, double? PValue,
    double?[]? CiAbsolute, double?[]? CiRelative, bool Significant);
