using Experiments.Assignment.Configuration;
using Experiments.Assignment.Recording;
using Experiments.Assignment.Sticky;
using Experiments.Postgres.Configuration;
using Experiments.Sdk.Evaluation;

namespace Experiments.Assignment.Evaluation;

/// <summary>
/// Evaluates a project's flags for one user with Amplitude's engine (<see cref="FlagSet"/>), then applies what
/// only the server can: sticky bucketing and assignment events. (Schedules act through the status: the gateway's
/// scheduler launches and stops experiments.)
/// </summary>
public sealed class Evaluator(ConfigurationCache cache, StickyAssignments sticky, AssignmentRecorder recorder)
{
    /// <summary>
    /// Every running flag of the project (or the named ones). Default ("off") variants are included when asked
    /// (Amplitude's <c>/sdk/v2/vardata</c> returns them); the internal holdout and mutual-exclusion flags never are.
    /// Unknown flag keys are left out.
    /// </summary>
    public List<EvaluationResult> Evaluate(string projectId, EvaluationUser user, IReadOnlyCollection<string>? flagKeys = null, bool includeDefaults = false)
    {
        var flags = cache.FlagsOf(projectId);
        var results = new EvaluationResult?[flags.Set.Count];
        flags.Set.EvaluateAll(user, results, flagKeys);
        var wanted = flagKeys is { Count: > 0 } ? flagKeys as IReadOnlySet<string> ?? flagKeys.ToHashSet(StringComparer.Ordinal) : null;
        var list = new List<EvaluationResult>(results.Length);
        for (var i = 0; i < results.Length; i++)
        {
            var info = flags.Info[i];
            if (info.IsGroup || (wanted is not null && !wanted.Contains(flags.Set.FlagAt(i).Key)))
            {
                continue;
            }
            if (Finish(projectId, flags, i, user, results[i]) is { } result && (includeDefaults || !result.IsDefault))
            {
                list.Add(result);
            }
        }
        return list;
    }

    /// <summary>One flag by index: the hot path (no allocation unless the assignment is new or sticky storage records one).</summary>
    public EvaluationResult? EvaluateFlag(string projectId, ProjectFlags flags, int index, EvaluationUser user)
    {
        return Finish(projectId, flags, index, user, flags.Set.Evaluate(user, index));
    }

    private EvaluationResult? Finish(string projectId, ProjectFlags flags, int index, EvaluationUser user, EvaluationResult? result)
    {
        if (result is null || result.IsDefault)
        {
            return result;
        }
        var info = flags.Info[index];
        if (info.Sticky && result.SegmentIndex >= info.FirstBucketedSegment && info.Experiment is { } experiment
            && BucketingValue(experiment.BucketingUnit, user) is { Length: > 0 } value)
        {
            var stored = sticky.GetOrAdd(experiment.Id, projectId, experiment.Key, value, result.Key!);
            if (!string.Equals(stored, result.Key, StringComparison.Ordinal) && flags.Set.ResultFor(index, result.SegmentIndex, stored) is { } kept)
            {
                result = kept;
            }
        }
        recorder.Record(projectId, result.FlagKey, result.Key ?? "", user.UserId, user.DeviceId);
        return result;
    }

    /// <summary>The experiment a result belongs to (null for a flag that is not an experiment).</summary>
    public Guid? ExperimentIdOf(string projectId, EvaluationResult result)
        => cache.FlagsOf(projectId).Info is { } info && result.FlagIndex < info.Length && info[result.FlagIndex].Experiment is { } e
            && e.Key == result.FlagKey ? e.Id : null;

    public static string? BucketingValue(string unit, EvaluationUser user) => unit switch
    {
        BucketingUnits.UserId => user.UserId,
        BucketingUnits.DeviceId => user.DeviceId,
        _ => user.Groups is { } groups && groups.TryGetValue(unit, out var name) ? name : null,
    };
}
