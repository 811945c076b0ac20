namespace Experiments.Gateway.Model;

public sealed record CreateExperimentRequest(
    string? Name,
    string? Hypothesis,
    bool? BanditEnabled,
    string? ProjectId,
    string? Key,
    PrimaryMetric? PrimaryMetric);

public sealed record AddVariantRequest(string? Name, double? TrafficWeight, string? Key);

public sealed record AnalyzeExperimentRequest(double? ConfidenceLevel, string? Test, string? Control);
