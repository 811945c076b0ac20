using System.Text.Json;
using Experiments.Contracts.Messages;
using Npgsql;
using NpgsqlTypes;

namespace Experiments.Assignment.Bandits;

/// <summary>
/// The latest bandit weights per experiment (variant key to weight), in <c>assignment.bandit_weights</c> so that
/// they survive restarts; they replace the configured weights for users not assigned yet.
/// </summary>
public sealed class BanditWeightStore(NpgsqlDataSource dataSource)
{
    private IReadOnlyDictionary<Guid, IReadOnlyDictionary<string, double>> _last = new Dictionary<Guid, IReadOnlyDictionary<string, double>>();

    /// <summary>Stores the weights unless newer ones are already stored (redeliveries and reordering are harmless).</summary>
    public async Task SaveAsync(BanditWeightsUpdated update, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO assignment.bandit_weights (experiment_id, project_id, weights, computed_at, event_id)
            VALUES (@experiment, @project, @weights, @computed, @event)
            ON CONFLICT (experiment_id) DO UPDATE SET weights = excluded.weights, computed_at = excluded.computed_at, event_id = excluded.event_id
            WHERE assignment.bandit_weights.computed_at < excluded.computed_at
            """);
        command.Parameters.AddWithValue("experiment", update.ExperimentId);
        command.Parameters.AddWithValue("project", update.ProjectId);
        command.Parameters.Add(new NpgsqlParameter("weights", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(update.Weights) });
        command.Parameters.AddWithValue("computed", update.ComputedAt);
        command.Parameters.AddWithValue("event", update.EventId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Every experiment's latest weights; the last good copy when PostgreSQL is away.</summary>
    public async Task<IReadOnlyDictionary<Guid, IReadOnlyDictionary<string, double>>> LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT experiment_id, weights::text FROM assignment.bandit_weights");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            var weights = new Dictionary<Guid, IReadOnlyDictionary<string, double>>();
            while (await reader.ReadAsync(cancellationToken))
            {
                weights[reader.GetGuid(0)] = JsonSerializer.Deserialize<Dictionary<string, double>>(reader.GetString(1)) ?? [];
            }
            return _last = weights;
        }
        catch (NpgsqlException) when (_last.Count > 0)
        {
            return _last;
        }
    }
}
