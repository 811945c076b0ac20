using System.Collections.Frozen;
using Experiments.Assignment.Evaluation;
using Experiments.Postgres.Configuration;

namespace Experiments.Assignment.Configuration;

/// <summary>A running experiment ready to evaluate: its configuration and precomputed distribution ranges.</summary>
public sealed record CompiledFlag(ExperimentConfig Config, long[] DistributionEnds);

/// <summary>
/// The running experiments of every project, held in memory. Reloaded when an ExperimentChanged event
/// arrives and periodically as a safety net; when PostgreSQL is away the last good copy keeps serving.
/// </summary>
public sealed class ConfigurationCache(ExperimentConfigReader reader, ILogger<ConfigurationCache> logger)
{
    private volatile FrozenDictionary<string, CompiledFlag[]> _byProject = FrozenDictionary<string, CompiledFlag[]>.Empty;
    private readonly SemaphoreSlim _reloading = new(1, 1);

    public DateTimeOffset? LoadedAt { get; private set; }

    public IReadOnlyList<CompiledFlag> FlagsOf(string projectId)
        => _byProject.TryGetValue(projectId, out var flags) ? flags : [];

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloading.WaitAsync(cancellationToken);
        try
        {
            var running = await reader.ListRunningAsync(cancellationToken);
            _byProject = running
                .Where(e => e.Variants.Count > 0)
                .GroupBy(e => e.ProjectId)
                .ToFrozenDictionary(
                    g => g.Key,
                    g => g.Select(e => new CompiledFlag(e, Bucketing.DistributionEnds(e.Variants.Select(v => v.TrafficWeight).ToList()))).ToArray());
            LoadedAt = DateTimeOffset.UtcNow;
            logger.LogDebug("Loaded {Count} running experiments", running.Count);
        }
        finally
        {
            _reloading.Release();
        }
    }
}
