using System.Text.Json;
using Experiments.Gateway.Model;
using Experiments.Postgres.Configuration;
using Npgsql;
using NpgsqlTypes;

namespace Experiments.Gateway.Data;

/// <summary>
/// Reads and writes experiments in the gateway's schema; every change is audited, and its events
/// (<see cref="ExperimentMessages"/>) written to the outbox, in the same transaction.
/// </summary>
public sealed class ExperimentStore(NpgsqlDataSource dataSource, TimeProvider timeProvider, GatewayOutbox outbox)
{
    private const string SelectExperiment = """
        SELECT id, project_id, key, name, hypothesis, status, bandit_enabled, bucketing_unit,
               primary_metric->>'event_type', created_at, updated_at, started_at, stopped_at
        FROM gateway.experiments
        """;

    public async Task<ChangeResult<Experiment>> CreateAsync(
        string projectId, string key, string name, string hypothesis, bool banditEnabled, PrimaryMetric? metric, string actor,
        CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO gateway.experiments (id, project_id, key, name, hypothesis, bandit_enabled, salt, primary_metric, created_at, updated_at)
            VALUES (@id, @project, @key, @name, @hypothesis, @bandit, @salt, @metric, @now, @now)
            ON CONFLICT (project_id, key) DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", id);
            insert.Parameters.AddWithValue("project", projectId);
            insert.Parameters.AddWithValue("key", key);
            insert.Parameters.AddWithValue("name", name);
            insert.Parameters.AddWithValue("hypothesis", hypothesis);
            insert.Parameters.AddWithValue("bandit", banditEnabled);
            insert.Parameters.AddWithValue("salt", key);
            insert.Parameters.Add(new NpgsqlParameter("metric", NpgsqlDbType.Jsonb)
            {
                Value = metric is null ? DBNull.Value : JsonSerializer.Serialize(new { event_type = metric.EventType }),
            });
            insert.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return ChangeResult<Experiment>.Fail(ChangeFailure.DuplicateKey, $"An experiment with key '{key}' already exists in project '{projectId}'.");
            }
        }

        var created = (await ReadAsync(connection, transaction, projectId, id, cancellationToken))!;
        await AuditAsync(connection, transaction, projectId, actor, "create", id, null, created, cancellationToken);
        await GatewayOutbox.WriteAsync(connection, transaction, ExperimentMessages.Changed(created, "created", timeProvider.GetUtcNow()), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        outbox.Committed();
        return ChangeResult<Experiment>.Ok(created);
    }

    public async Task<Experiment?> GetAsync(string projectId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadAsync(connection, null, projectId, id, cancellationToken);
    }

    public async Task<IReadOnlyList<Experiment>> ListAsync(string projectId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var experiments = new List<Experiment>();
        await using (var command = new NpgsqlCommand($"{SelectExperiment} WHERE project_id = @project ORDER BY created_at DESC, id", connection))
        {
            command.Parameters.AddWithValue("project", projectId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                experiments.Add(MapExperiment(reader, []));
            }
        }

        var variants = await ReadVariantsAsync(connection, null, experiments.Select(e => e.Id).ToArray(), cancellationToken);
        return experiments.Select(e => e with { Variants = variants.TryGetValue(e.Id, out var v) ? v : [] }).ToList();
    }

    public async Task<ChangeResult<Experiment>> AddVariantAsync(
        string projectId, Guid id, string key, string name, double weight, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await ReadAsync(connection, transaction, projectId, id, cancellationToken, forUpdate: true);
        if (before is null)
        {
            return ChangeResult<Experiment>.Fail(ChangeFailure.NotFound, $"Experiment {id} was not found.");
        }
        if (before.Status != ExperimentStatuses.Draft)
        {
            return ChangeResult<Experiment>.Fail(ChangeFailure.WrongStatus,
                $"Variants can only be added while the experiment is a draft; it is {before.Status}.");
        }
        if (before.Variants.Any(v => v.Key == key))
        {
            return ChangeResult<Experiment>.Fail(ChangeFailure.DuplicateKey, $"The experiment already has a variant with key '{key}'.");
        }

        await using (var insert = new NpgsqlCommand("""
            INSERT INTO gateway.variants (id, experiment_id, key, name, traffic_weight, position)
            VALUES (@id, @experiment, @key, @name, @weight, @position);
            UPDATE gateway.experiments SET updated_at = @now WHERE id = @experiment;
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", Guid.CreateVersion7());
            insert.Parameters.AddWithValue("experiment", id);
            insert.Parameters.AddWithValue("key", key);
            insert.Parameters.AddWithValue("name", name);
            insert.Parameters.AddWithValue("weight", weight);
            insert.Parameters.AddWithValue("position", before.Variants.Count);
            insert.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        var after = (await ReadAsync(connection, transaction, projectId, id, cancellationToken))!;
        await AuditAsync(connection, transaction, projectId, actor, "add_variant", id, before, after, cancellationToken);
        await GatewayOutbox.WriteAsync(connection, transaction, ExperimentMessages.Changed(after, "variant_added", timeProvider.GetUtcNow()), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        outbox.Committed();
        return ChangeResult<Experiment>.Ok(after);
    }

    /// <summary>
    /// Moves an experiment from one status to the next (launch: draft to running; stop: running to stopped), with
    /// its events (<see cref="ExperimentMessages.Transitioned"/>) in the outbox.
    /// </summary>
    public async Task<ChangeResult<Experiment>> TransitionAsync(
        string projectId, Guid id, string from, string to, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await ReadAsync(connection, transaction, projectId, id, cancellationToken, forUpdate: true);
        if (before is null)
        {
            return ChangeResult<Experiment>.Fail(ChangeFailure.NotFound, $"Experiment {id} was not found.");
        }
        if (before.Status != from)
        {
            return ChangeResult<Experiment>.Fail(ChangeFailure.WrongStatus,
                $"The experiment is {before.Status}; only a {from} experiment can become {to}.");
        }
        if (to == ExperimentStatuses.Running && before.Variants.Count < 2)
        {
            return ChangeResult<Experiment>.Fail(ChangeFailure.TooFewVariants,
                $"An experiment needs at least two variants to launch; it has {before.Variants.Count}.");
        }

        var column = to == ExperimentStatuses.Running ? "started_at" : "stopped_at";
        await using (var update = new NpgsqlCommand(
            $"UPDATE gateway.experiments SET status = @to, updated_at = @now, {column} = @now WHERE id = @id", connection, transaction))
        {
            update.Parameters.AddWithValue("to", to);
            update.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
            update.Parameters.AddWithValue("id", id);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        var after = (await ReadAsync(connection, transaction, projectId, id, cancellationToken))!;
        await AuditAsync(connection, transaction, projectId, actor, to == ExperimentStatuses.Running ? "launch" : "stop", id, before, after, cancellationToken);
        await GatewayOutbox.WriteAsync(connection, transaction, ExperimentMessages.Transitioned(after, to, timeProvider.GetUtcNow()), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        outbox.Committed();
        return ChangeResult<Experiment>.Ok(after);
    }

    internal static async Task<Experiment?> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string projectId, Guid id, CancellationToken cancellationToken, bool forUpdate = false)
    {
        Experiment? experiment;
        await using (var command = new NpgsqlCommand(
            $"{SelectExperiment} WHERE project_id = @project AND id = @id{(forUpdate ? " FOR UPDATE" : "")}", connection, transaction))
        {
            command.Parameters.AddWithValue("project", projectId);
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            experiment = await reader.ReadAsync(cancellationToken) ? MapExperiment(reader, []) : null;
        }
        if (experiment is null)
        {
            return null;
        }
        var variants = await ReadVariantsAsync(connection, transaction, [id], cancellationToken);
        return experiment with { Variants = variants.TryGetValue(id, out var v) ? v : [] };
    }

    private static async Task<Dictionary<Guid, List<Variant>>> ReadVariantsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid[] experimentIds, CancellationToken cancellationToken)
    {
        var byExperiment = new Dictionary<Guid, List<Variant>>();
        if (experimentIds.Length == 0)
        {
            return byExperiment;
        }
        await using var command = new NpgsqlCommand(
            "SELECT experiment_id, id, key, name, traffic_weight FROM gateway.variants WHERE experiment_id = ANY(@ids) ORDER BY experiment_id, position",
            connection, transaction);
        command.Parameters.AddWithValue("ids", experimentIds);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var experimentId = reader.GetGuid(0);
            if (!byExperiment.TryGetValue(experimentId, out var list))
            {
                byExperiment[experimentId] = list = [];
            }
            list.Add(new Variant(reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetDouble(4)));
        }
        return byExperiment;
    }

    private static Experiment MapExperiment(NpgsqlDataReader reader, IReadOnlyList<Variant> variants) => new(
        reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
        reader.GetBoolean(6), reader.GetString(7), reader.IsDBNull(8) ? null : new PrimaryMetric(reader.GetString(8)), variants,
        reader.GetFieldValue<DateTimeOffset>(9), reader.GetFieldValue<DateTimeOffset>(10),
        reader.IsDBNull(11) ? null : reader.GetFieldValue<DateTimeOffset>(11),
        reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12));

    /// <summary>One audit row, in the caller's transaction (entity type "experiment" unless named).</summary>
    internal static Task AuditAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string projectId, string actor, string action, Guid id,
        object? before, object after, CancellationToken cancellationToken, string entityType = "experiment")
        => AuditLog.WriteAsync(connection, transaction, projectId, actor, action, entityType, id.ToString(), before, after, cancellationToken);
}
