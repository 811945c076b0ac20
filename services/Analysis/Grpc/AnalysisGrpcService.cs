using Experiments.Analysis.Analyses;
using Experiments.Analysis.Queries;
using Experiments.ClickHouse;
using Experiments.Contracts.Analysis.V1;
using Experiments.Postgres.Configuration;
using Experiments.Statistics.Contracts;
using Experiments.Statistics.Validation;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LatestResultsReader = Experiments.Analysis.Snapshots.LatestResults;
using PropertyFilter = Experiments.Postgres.Configuration.PropertyFilter;

namespace Experiments.Analysis.Grpc;

public sealed class AnalysisGrpcService(ExperimentConfigReader configs, ExperimentAnalysis analysis, LatestResultsReader latest) : AnalysisService.AnalysisServiceBase
{
    /// <summary>At most this many experiment ids in one request.</summary>
    public const int MaxExperimentIds = 1000;

    /// <summary>
    /// The latest stored result of each (or each asked) experiment of the project, with the verdict stored with the
    /// snapshot (derived for snapshots stored before it was): PostgreSQL only.
    /// </summary>
    public override async Task<LatestResultsResponse> LatestResults(LatestResultsRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.ProjectId))
        {
            throw Invalid("project_id is required.");
        }
        if (request.ExperimentIds.Count > MaxExperimentIds)
        {
            throw Invalid($"experiment_ids takes at most {MaxExperimentIds} ids.");
        }
        var ids = new HashSet<Guid>();
        for (var i = 0; i < request.ExperimentIds.Count; i++)
        {
            if (!Guid.TryParse(request.ExperimentIds[i], out var id))
            {
                throw Invalid($"experiment_ids[{i}] must be a UUID.");
            }
            ids.Add(id);
        }
        var response = new LatestResultsResponse();
        foreach (var result in await latest.ForProjectAsync(request.ProjectId, ids, context.CancellationToken))
        {
            var item = new LatestResult
            {
                ExperimentId = result.ExperimentId.ToString(),
                ComputedAt = Timestamp.FromDateTimeOffset(result.ComputedAt),
                SnapshotDate = result.SnapshotDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                Winner = result.Winner ?? "",
                PrimaryMetric = result.PrimaryMetric,
                Significant = result.Significant,
                SrmDetected = result.SrmDetected,
                Recommendation = result.Recommendation ?? "",
                Control = result.Control ?? "",
                VerdictStored = result.VerdictStored,
            };
            if (result.PrimaryPValue is { } p)
            {
                item.PrimaryPValue = p;
            }
            if (result.SrmPValue is { } srmP)
            {
                item.SrmPValue = srmP;
            }
            item.Variants.AddRange((result.Variants ?? []).Select(v => new VariantResult
            {
                Key = v.Key,
                Name = v.Name,
                Exposures = v.Exposures,
                Conversions = v.Conversions,
                Rate = v.Exposures > 0 ? (double)v.Conversions / v.Exposures : 0,
            }));
            item.Comparisons.AddRange(result.Comparisons.Select(c => ExperimentAnalysis.ToComparison(c.ToResult())));
            response.Results.Add(item);
        }
        return response;
    }

    public override async Task<AnalyzeResponse> Analyze(AnalyzeRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.ProjectId))
        {
            throw Invalid("project_id is required.");
        }
        if (!Guid.TryParse(request.ExperimentId, out var experimentId))
        {
            throw Invalid("experiment_id must be a UUID.");
        }
        var options = ToOptions(request);
        var experiment = await configs.FindAsync(request.ProjectId, experimentId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Experiment {experimentId} was not found in project '{request.ProjectId}'."));

        try
        {
            return (await analysis.RunAsync(experiment, options, context.CancellationToken)).Response;
        }
        catch (AnalysisNotPossibleException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
        catch (InvalidStatisticsRequestException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
        catch (ClickHouseException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"ClickHouse: {ex.Message}"));
        }
    }

    /// <summary>Checks every field of the request; a bad one is answered INVALID_ARGUMENT naming it.</summary>
    public static AnalysisOptions ToOptions(AnalyzeRequest request)
    {
        if (request.ConfidenceLevel != 0 && (!double.IsFinite(request.ConfidenceLevel) || request.ConfidenceLevel is <= 0.5 or >= 1))
        {
            throw Invalid("confidence_level must be between 0.5 and 1.");
        }
        var test = request.Test switch
        {
            "" => (TestKind?)null,
            "sequential" => TestKind.Sequential,
            "ttest" => TestKind.Ttest,
            _ => throw Invalid("test must be 'sequential' or 'ttest'."),
        };
        if (request.CupedWindowInvalid())
        {
            throw Invalid("cuped_window_days must be between 1 and 365.");
        }
        CorrectionMethod? correction;
        try
        {
            correction = request.Correction.Length == 0 ? null : ExperimentAnalysis.ParseCorrection(request.Correction);
        }
        catch (AnalysisNotPossibleException)
        {
            throw Invalid("correction must be none, bonferroni, holm or benjamini_hochberg.");
        }
        var from = request.From?.ToDateTimeOffset();
        var to = request.To?.ToDateTimeOffset();
        if (from is { } f && to is { } t && t < f)
        {
            throw Invalid("to must not be before from.");
        }
        var filters = new List<PropertyFilter>();
        for (var i = 0; i < request.Filters.Count; i++)
        {
            var filter = request.Filters[i];
            if (string.IsNullOrWhiteSpace(filter.Property))
            {
                throw Invalid($"filters[{i}].property is required.");
            }
            if (PropertyFilter.Problem(filter.Operator, filter.Values) is { } problem)
            {
                throw Invalid($"filters[{i}].{problem.Field} {problem.Message}");
            }
            filters.Add(new PropertyFilter(filter.Property, filter.Operator.Length == 0 ? TargetingOperators.Is : filter.Operator, filter.Values.ToList()));
        }
        return new AnalysisOptions(
            request.ConfidenceLevel == 0 ? null : request.ConfidenceLevel,
            test,
            request.Control.Length == 0 ? null : request.Control,
            request.HasCuped ? request.Cuped : null,
            request.CupedWindowDays == 0 ? null : request.CupedWindowDays,
            correction,
            from,
            to,
            request.Segment.Length == 0 ? null : request.Segment,
            filters,
            request.GroupBy.Length == 0 ? null : request.GroupBy);
    }

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}

internal static class AnalyzeRequestChecks
{
    public static bool CupedWindowInvalid(this AnalyzeRequest request) => request.CupedWindowDays is < 0 or > 365;
}
