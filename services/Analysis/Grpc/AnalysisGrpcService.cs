using Experiments.Analysis.Analyses;
using Experiments.Contracts.Analysis.V1;
using Experiments.Postgres.Configuration;
using Experiments.Statistics.Contracts;
using Experiments.Statistics.Validation;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using StatInterval = Experiments.Statistics.Contracts.Interval;

namespace Experiments.Analysis.Grpc;

public sealed class AnalysisGrpcService(ExperimentConfigReader configs, ExperimentAnalysis analysis) : AnalysisService.AnalysisServiceBase
{
    public override async Task<AnalyzeResponse> Analyze(AnalyzeRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.ProjectId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "project_id is required."));
        }
        if (!Guid.TryParse(request.ExperimentId, out var experimentId))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "experiment_id must be a UUID."));
        }
        if (request.ConfidenceLevel != 0 && request.ConfidenceLevel is <= 0.5 or >= 1)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "confidence_level must be between 0.5 and 1."));
        }
        var test = request.Test switch
        {
            "" or "sequential" => TestKind.Sequential,
            "ttest" => TestKind.Ttest,
            _ => throw new RpcException(new Status(StatusCode.InvalidArgument, "test must be 'sequential' or 'ttest'.")),
        };

        var experiment = await configs.FindAsync(request.ProjectId, experimentId, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Experiment {experimentId} was not found in project '{request.ProjectId}'."));

        ExperimentAnalysisResult result;
        try
        {
            result = await analysis.RunAsync(experiment,
                new AnalysisSettings(request.ConfidenceLevel == 0 ? 0.95 : request.ConfidenceLevel, test, NullIfEmpty(request.Control)),
                context.CancellationToken);
        }
        catch (AnalysisNotPossibleException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
        catch (InvalidStatisticsRequestException ex)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, ex.Message));
        }
        return ToResponse(result);
    }

    private static AnalyzeResponse ToResponse(ExperimentAnalysisResult result)
    {
        var response = new AnalyzeResponse
        {
            ExperimentId = result.Experiment.Id.ToString(),
            MetricEventType = result.MetricEventType,
            Control = result.Control,
            Test = result.Settings.Test == TestKind.Ttest ? "ttest" : "sequential",
            ConfidenceLevel = result.Settings.ConfidenceLevel,
            Recommendation = result.Recommendation,
            Winner = result.Winner ?? "",
            ComputedAt = Timestamp.FromDateTimeOffset(result.ComputedAt),
            Srm = new Srm
            {
                ChiSquare = result.Statistics.Srm.ChiSquare ?? double.PositiveInfinity,
                PValue = result.Statistics.Srm.PValue,
                Detected = result.Statistics.Srm.Detected,
            },
        };
        var totalWeight = result.Variants.Sum(v => v.Variant.TrafficWeight);
        foreach (var (variant, counts) in result.Variants)
        {
            response.Variants.Add(new VariantResult
            {
                Key = variant.Key,
                Name = variant.Name,
                Exposures = counts.Users,
                Conversions = counts.Conversions,
                Rate = counts.Users == 0 ? 0 : (double)counts.Conversions / counts.Users,
                ExpectedWeight = variant.TrafficWeight / totalWeight,
            });
        }
        foreach (var c in result.Statistics.Comparisons)
        {
            var comparison = new Comparison
            {
                Variant = c.Variant,
                ControlMean = c.ControlMean ?? 0,
                Mean = c.Mean ?? 0,
                AbsoluteLift = c.AbsoluteLift ?? 0,
                RelativeLift = c.RelativeLift ?? 0,
                Significant = c.Significant,
                CiAbsolute = ToInterval(c.CiAbsolute),
                CiRelative = ToInterval(c.CiRelative),
                GateReason = c.DataQualityReason ?? "",
            };
            if (c.PValue is { } p)
            {
                comparison.PValue = p;
            }
            if (c.MsprtLogLr is { } lr)
            {
                comparison.MsprtLogLr = lr;
            }
            response.Comparisons.Add(comparison);
        }
        return response;
    }

    private static Contracts.Analysis.V1.Interval? ToInterval(StatInterval? interval) => interval is { } i
        ? new Contracts.Analysis.V1.Interval { Lower = i.Lower ?? double.NegativeInfinity, Upper = i.Upper ?? double.PositiveInfinity }
        : null;

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
