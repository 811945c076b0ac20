using System.Text;
using System.Text.Json;
using Experiments.Postgres.Configuration;
using Experiments.Sdk.Evaluation;

namespace Experiments.Assignment.Configuration;

/// <summary>
/// Turns the gateway's configuration into flags in Amplitude's evaluation format: the one form that this
/// service evaluates and that <c>/sdk/v2/flags</c> serves, so local-evaluation SDKs compute the same variants.
/// Segments, in order: exclusion (holdouts, mutual-exclusion slots), testers, targeting segments, everyone else.
/// </summary>
public static class FlagBuilder
{
    public const string OffVariant = "off";
    public const long DistributionSize = 42949673; // floor(2^32 / 100) + 1: the exclusive end of floor(hash / 100)

    public static string HoldoutFlagKey(string groupKey) => $"$holdout-{groupKey}";

    public static string MutualExclusionFlagKey(string groupKey) => $"$mutex-{groupKey}";

    /// <summary>Where a flag's bucketed segments start (segments before it exclude users or pin testers; stickiness skips them).</summary>
    public sealed record BuiltFlag(EvaluationFlag Flag, ExperimentConfig? Experiment, int FirstBucketedSegment);

    public static IReadOnlyList<BuiltFlag> Build(
        IReadOnlyList<ExperimentConfig> experiments, IReadOnlyList<ExclusionGroupConfig> groups,
        IReadOnlyDictionary<Guid, IReadOnlyDictionary<string, double>> banditWeights)
    {
        var built = new List<BuiltFlag>();
        var groupsByExperiment = groups.SelectMany(g => g.Members.Select(m => (m.ExperimentId, Group: g))).ToLookup(x => x.ExperimentId, x => x.Group);
        foreach (var group in groups.Where(g => g.Members.Count > 0))
        {
            built.Add(new BuiltFlag(GroupFlag(group), null, 0));
        }
        foreach (var experiment in experiments.Where(e => e.Variants.Count > 0))
        {
            built.Add(ExperimentFlag(experiment, groupsByExperiment[experiment.Id].ToList(), banditWeights.GetValueOrDefault(experiment.Id)));
        }
        return built;
    }

    public static BuiltFlag ExperimentFlag(ExperimentConfig experiment, IReadOnlyList<ExclusionGroupConfig> groups, IReadOnlyDictionary<string, double>? banditWeights)
    {
        var variants = new Dictionary<string, EvaluationVariant>(StringComparer.Ordinal)
        {
            [OffVariant] = new(OffVariant, Metadata: Meta(("default", true))),
        };
        foreach (var variant in experiment.Variants)
        {
            variants[variant.Key] = new EvaluationVariant(variant.Key, JsonSerializer.SerializeToElement(variant.Key),
                variant.PayloadJson is null ? null : JsonDocument.Parse(variant.PayloadJson).RootElement.Clone());
        }

        var segments = new List<EvaluationSegment>();
        foreach (var group in groups)
        {
            segments.Add(group.Kind == ExclusionGroupKinds.Holdout
                ? new EvaluationSegment(
                    Conditions: [[new EvaluationCondition(["result", HoldoutFlagKey(group.Key), "key"], "is", ["holdout"])]],
                    Variant: OffVariant, Metadata: Meta(("segmentName", $"holdout {group.Key}")))
                : new EvaluationSegment(
                    Conditions: [[new EvaluationCondition(["result", MutualExclusionFlagKey(group.Key), "key"], "is not", [experiment.Key])]],
                    Variant: OffVariant, Metadata: Meta(("segmentName", $"mutual exclusion {group.Key}"))));
        }
        foreach (var testers in experiment.Testers)
        {
            var or = new List<IReadOnlyList<EvaluationCondition>>();
            if (testers.UserIds is { Count: > 0 } userIds)
            {
                or.Add([new EvaluationCondition(["context", "user", "user_id"], "is", userIds)]);
            }
            if (testers.DeviceIds is { Count: > 0 } deviceIds)
            {
                or.Add([new EvaluationCondition(["context", "user", "device_id"], "is", deviceIds)]);
            }
            if (or.Count > 0)
            {
                segments.Add(new EvaluationSegment(Conditions: or, Variant: testers.Variant, Metadata: Meta(("segmentName", "individual-inclusions"))));
            }
        }
        var firstBucketed = segments.Count;

        var selector = BucketingSelector(experiment.BucketingUnit);
        var weights = experiment.Variants.Select(v => banditWeights is not null && banditWeights.TryGetValue(v.Key, out var w) && w > 0 ? w : v.TrafficWeight).ToList();
        if (banditWeights is not null && weights.Sum() <= 0)
        {
            weights = experiment.Variants.Select(v => v.TrafficWeight).ToList();
        }
        var distributions = Distributions(experiment.Variants.Select(v => v.Key).ToList(), weights);
        EvaluationBucket Bucket(int allocation) => new(selector, experiment.Salt, [new EvaluationAllocation([0, allocation], distributions)]);

        foreach (var segment in experiment.Segments)
        {
            var conditions = new List<IReadOnlyList<EvaluationCondition>> { segment.Rules.Select(Condition).ToList() };
            segments.Add(segment.Variant is { } fixedVariant
                ? new EvaluationSegment(Conditions: conditions, Variant: fixedVariant, Metadata: Meta(("segmentName", segment.Name)))
                : new EvaluationSegment(Bucket(segment.TrafficAllocation ?? experiment.TrafficAllocation), conditions, OffVariant,
                    Meta(("segmentName", segment.Name))));
        }
        segments.Add(experiment.Segments.Count > 0
            ? new EvaluationSegment(Variant: OffVariant, Metadata: Meta(("segmentName", "All Other Users")))
            : new EvaluationSegment(Bucket(experiment.TrafficAllocation), Variant: OffVariant, Metadata: Meta(("segmentName", "All Other Users"))));

        var dependencies = groups.Select(g => g.Kind == ExclusionGroupKinds.Holdout ? HoldoutFlagKey(g.Key) : MutualExclusionFlagKey(g.Key)).ToList();
        var flag = new EvaluationFlag(experiment.Key, variants, segments, dependencies.Count > 0 ? dependencies : null,
            Meta(("deployed", true), ("evaluationMode", "local"), ("flagType", "experiment"), ("flagVersion", 1), ("experimentKey", experiment.Key)));
        return new BuiltFlag(flag, experiment, firstBucketed);
    }

    private static EvaluationFlag GroupFlag(ExclusionGroupConfig group)
    {
        var selector = BucketingSelector(group.BucketingUnit);
        if (group.Kind == ExclusionGroupKinds.Holdout)
        {
            return new EvaluationFlag(HoldoutFlagKey(group.Key),
                new Dictionary<string, EvaluationVariant> { ["holdout"] = new("holdout", JsonSerializer.SerializeToElement("holdout")), ["on"] = new("on", JsonSerializer.SerializeToElement("on")) },
                [new EvaluationSegment(new EvaluationBucket(selector, group.Salt,
                    [new EvaluationAllocation([0, group.HoldoutPercent], [new EvaluationDistribution("holdout", [0, DistributionSize])])]), Variant: "on")],
                Metadata: Meta(("deployed", true), ("evaluationMode", "local"), ("flagType", "holdout-group"), ("flagVersion", 1)));
        }
        var members = group.Members.Select(m => m.ExperimentKey).ToList();
        return new EvaluationFlag(MutualExclusionFlagKey(group.Key),
            members.ToDictionary(k => k, k => new EvaluationVariant(k, JsonSerializer.SerializeToElement(k)), StringComparer.Ordinal),
            [new EvaluationSegment(new EvaluationBucket(selector, group.Salt,
                [new EvaluationAllocation([0, 100], Distributions(members, group.Members.Select(m => m.Weight).ToList()))]))],
            Metadata: Meta(("deployed", true), ("evaluationMode", "local"), ("flagType", "mutual-exclusion-group"), ("flagVersion", 1)));
    }

    /// <summary>Weight ranges over <c>[0, 42949673)</c>, in variant order; the last one ends exactly at the top.</summary>
    public static IReadOnlyList<EvaluationDistribution> Distributions(IReadOnlyList<string> keys, IReadOnlyList<double> weights)
    {
        var total = weights.Sum();
        var result = new List<EvaluationDistribution>(keys.Count);
        long start = 0;
        double cumulative = 0;
        for (var i = 0; i < keys.Count; i++)
        {
            cumulative += weights[i];
            var end = i == keys.Count - 1 ? DistributionSize : (long)Math.Round(cumulative / total * DistributionSize);
            result.Add(new EvaluationDistribution(keys[i], [start, end]));
            start = end;
        }
        return result;
    }

    public static IReadOnlyList<string> BucketingSelector(string unit) => unit switch
    {
        BucketingUnits.UserId => ["context", "user", "user_id"],
        BucketingUnits.DeviceId => ["context", "user", "device_id"],
        _ => ["context", "groups", unit, "group_name"],
    };

    /// <summary>A rule's property as a selector: user_id, device_id, user.&lt;field&gt;, group.&lt;type&gt;, or a user property.</summary>
    public static IReadOnlyList<string> PropertySelector(string property) => property switch
    {
        "user_id" or "device_id" => ["context", "user", property],
        _ when property.StartsWith("user.", StringComparison.Ordinal) => ["context", "user", property[5..]],
        _ when property.StartsWith("group.", StringComparison.Ordinal) => ["context", "groups", property[6..], "group_name"],
        _ => ["context", "user", "user_properties", property],
    };

    private static EvaluationCondition Condition(TargetingRule rule) => rule.Operator == TargetingOperators.StartsWith
        ? new EvaluationCondition(PropertySelector(rule.Property), EvaluationOperators.RegexMatch, rule.Values.Select(v => "^" + EscapeRegex(v)).ToList())
        : new EvaluationCondition(PropertySelector(rule.Property), rule.Operator, rule.Values);

    /// <summary>Escapes a literal for a regex that JavaScript and .NET read alike.</summary>
    public static string EscapeRegex(string literal)
    {
        var escaped = new StringBuilder(literal.Length + 8);
        foreach (var c in literal)
        {
            if ("\\^$.*+?()[]{}|/-".Contains(c, StringComparison.Ordinal))
            {
                escaped.Append('\\');
            }
            escaped.Append(c);
        }
        return escaped.ToString();
    }

    private static Dictionary<string, JsonElement> Meta(params (string Key, object Value)[] entries)
        => entries.ToDictionary(e => e.Key, e => JsonSerializer.SerializeToElement(e.Value), StringComparer.Ordinal);
}
