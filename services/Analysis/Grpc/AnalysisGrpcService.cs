using Experiments.Analysis.Analyses;
using Experiments.Analysis.Queries;
using Experiments.ClickHouse;
using Experiments.Contracts.Analysis.V1;
using Experiments.Postgres.Configuration;
using Experiments.Statistics.Contracts;
using Experiments.Statistics.Validation;
using Grpc.Core;
using PropertyFilter = Experiments.Postgres.Configuration.PropertyFilter;

namespace Experiments.Analysis.Grpc;

public sealed class AnalysisGrpcService(ExperimentConfigReader configs, ExperimentAnalysis analysis) : AnalysisService.AnalysisServiceBase
{
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
            filters.Add(new PropertyFilter(filter.Property, filter.Operator.Length == 0 ? PropertyFilter.Is : filter.Operator, filter.Values.ToList()));
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
