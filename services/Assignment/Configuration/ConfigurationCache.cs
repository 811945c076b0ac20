using System.Collections.Frozen;
using System.Text.Json;
using Experiments.Assignment.Bandits;
using Experiments.Assignment.Sticky;
using Experiments.Postgres.Configuration;
using Experiments.Sdk.Evaluation;

namespace Experiments.Assignment.Configuration;

/// <summary>What evaluation needs to know about a flag beyond Amplitude's format: its experiment and stickiness.</summary>
public sealed record FlagInfo(ExperimentConfig? Experiment, int FirstBucketedSegment, bool Sticky)
{
    public bool IsGroup => Experiment is null;
}

/// <summary>One project's flags (running experiments and exclusion groups), compiled, with their infos by flag index.</summary>
public sealed class ProjectFlags
{
    public ProjectFlags(IReadOnlyList<FlagBuilder.BuiltFlag> built)
    {
        Set = new FlagSet(built.Select(b => b.Flag));
        var byKey = built.ToDictionary(b => b.Flag.Key, StringComparer.Ordinal);
        Info = new FlagInfo[Set.Count];
        for (var i = 0; i < Set.Count; i++)
        {
            var b = byKey[Set.FlagAt(i).Key];
            var e = b.Experiment;
            Info[i] = new FlagInfo(e, b.FirstBucketedSegment, e is not null && (e.StickyBucketing || e.BanditEnabled));
        }
        FlagsJson = JsonSerializer.SerializeToUtf8Bytes(Set.Flags, EvaluationJson.Options);
    }

    public static ProjectFlags Empty { get; } = new([]);

    public FlagSet Set { get; }

    public FlagInfo[] Info { get; }

    /// <summary>The flags in Amplitude's evaluation format (a JSON array): the <c>/sdk/v2/flags</c> body.</summary>
    public byte[] FlagsJson { get; }
}

/// <summary>
/// The running experiments of every project, compiled into flags and held in memory. Reloaded when an
/// ExperimentChanged or BanditWeightsUpdated event arrives and periodically as a safety net; when PostgreSQL
/// is away the last good copy keeps serving.
/// </summary>
public sealed class ConfigurationCache(
    ExperimentConfigReader reader, BanditWeightStore bandits, StickyAssignments sticky, ILogger<ConfigurationCache> logger)
{
    private volatile FrozenDictionary<string, ProjectFlags> _byProject = FrozenDictionary<string, ProjectFlags>.Empty;
    private readonly SemaphoreSlim _reloading = new(1, 1);

    public DateTimeOffset? LoadedAt { get; private set; }

    public ProjectFlags FlagsOf(string projectId) => _byProject.TryGetValue(projectId, out var flags) ? flags : ProjectFlags.Empty;

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloading.WaitAsync(cancellationToken);
        try
        {
            var running = await reader.ListRunningAsync(cancellationToken);
            var groups = await reader.ListExclusionGroupsAsync(cancellationToken);
            var weights = await bandits.LoadAsync(cancellationToken);
            await sticky.LoadAsync(running.Where(e => e.StickyBucketing || e.BanditEnabled).Select(e => e.Id), cancellationToken);

            var projects = running.Select(e => e.ProjectId).Concat(groups.Select(g => g.ProjectId)).Distinct(StringComparer.Ordinal);
            var compiled = new Dictionary<string, ProjectFlags>(StringComparer.Ordinal);
            foreach (var project in projects)
            {
                try
                {
                    compiled[project] = new ProjectFlags(FlagBuilder.Build(
                        running.Where(e => e.ProjectId == project).ToList(), groups.Where(g => g.ProjectId == project).ToList(), weights));
                }
                catch (Exception ex) when (ex is InvalidOperationException or JsonException or ArgumentException)
                {
                    logger.LogError(ex, "Project {Project}'s configuration does not compile; keeping its previous flags", project);
                    compiled[project] = FlagsOf(project);
                }
            }
            _byProject = compiled.ToFrozenDictionary(StringComparer.Ordinal);
            LoadedAt = DateTimeOffset.UtcNow;
            logger.LogDebug("Loaded {Count} running experiments and {Groups} exclusion groups", running.Count, groups.Count);
        }
        finally
        {
            _reloading.Release();
        }
    }
}
