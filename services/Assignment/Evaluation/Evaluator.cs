using Experiments.Assignment.Configuration;

namespace Experiments.Assignment.Evaluation;

/// <summary>The user as evaluation sees it.</summary>
public sealed record EvaluationUser(string? UserId, string? DeviceId, IReadOnlyDictionary<string, string>? Properties = null);

public sealed record AssignedVariant(string FlagKey, string Key, string? PayloadJson, Guid ExperimentId);

/// <summary>Evaluates a project's running experiments for one user.</summary>
public sealed class Evaluator(ConfigurationCache cache)
{
    public IReadOnlyList<AssignedVariant> Evaluate(string projectId, EvaluationUser user, IReadOnlyCollection<string>? flagKeys = null)
    {
        var results = new List<AssignedVariant>();
        foreach (var flag in cache.FlagsOf(projectId))
        {
            var config = flag.Config;
            if (flagKeys is { Count: > 0 } && !flagKeys.Contains(config.Key))
            {
                continue;
            }
            var bucketingValue = config.BucketingUnit == "device_id" ? user.DeviceId : user.UserId ?? user.DeviceId;
            if (string.IsNullOrEmpty(bucketingValue))
            {
                continue;
            }
            var index = Bucketing.Assign(config.Salt, bucketingValue, allocationPercent: 100, flag.DistributionEnds);
            if (index >= 0)
            {
                var variant = config.Variants[index];
                results.Add(new AssignedVariant(config.Key, variant.Key, variant.PayloadJson, config.Id));
            }
        }
        return results;
    }
}
