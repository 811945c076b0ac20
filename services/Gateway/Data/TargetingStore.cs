using System.Text.Json;
using Experiments.Gateway.Model;
using Experiments.Postgres.Configuration;
using Npgsql;
using NpgsqlTypes;

namespace Experiments.Gateway.Data;

/// <summary>
/// Targeting, testers, variant edits and exclusion groups in the gateway's schema; every change audited, and its
/// ExperimentChanged written to the outbox, in its transaction.
/// </summary>
public sealed class TargetingStore(NpgsqlDataSource dataSource, TimeProvider timeProvider, GatewayOutbox outbox)
{
    public async Task<Targeting?> GetAsync(string projectId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadAsync(connection, null, projectId, id, cancellationToken);
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the stored targeting under a row lock, or refuses with its failure; a change
    /// is audited as <paramref name="action"/> and announced as ExperimentChanged(<paramref name="changed"/>).
    /// </summary>
    public async Task<ChangeResult<Targeting>> UpdateAsync(
        string projectId, Guid id, string action, string changed, string actor,
        Func<Targeting, (Targeting? Updated, ChangeFailure Failure, string? Detail)> change, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await ReadAsync(connection, transaction, projectId, id, cancellationToken, forUpdate: true);
        if (before is null)
        {
            return ChangeResult<Targeting>.Fail(ChangeFailure.NotFound, $"Experiment {id} was not found.");
        }
        var (updated, failure, detail) = change(before);
        if (updated is null)
        {
            return ChangeResult<Targeting>.Fail(failure, detail!);
        }

        await using (var update = new NpgsqlCommand("""
            UPDATE gateway.experiments SET bucketing_unit = @unit, salt = @salt, traffic_allocation = @allocation,
                sticky_bucketing = @sticky, segments = @segments, testers = @testers, updated_at = @now
            WHERE id = @id
            """, connection, transaction))
        {
            update.Parameters.AddWithValue("unit", updated.BucketingUnit);
            update.Parameters.AddWithValue("salt", updated.BucketingSalt);
            update.Parameters.AddWithValue("allocation", updated.TrafficAllocation);
            update.Parameters.AddWithValue("sticky", updated.StickyBucketing);
            update.Parameters.Add(new NpgsqlParameter("segments", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(updated.Segments, TargetingJson.Options) });
            update.Parameters.Add(new NpgsqlParameter("testers", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(updated.Testers, TargetingJson.Options) });
            update.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
            update.Parameters.AddWithValue("id", id);
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        foreach (var variant in updated.Variants)
        {
            await using var v = new NpgsqlCommand(
                "UPDATE gateway.variants SET name = @name, traffic_weight = @weight, payload = @payload WHERE experiment_id = @id AND key = @key",
                connection, transaction);
            v.Parameters.AddWithValue("name", variant.Name);
            v.Parameters.AddWithValue("weight", variant.TrafficWeight);
            v.Parameters.Add(new NpgsqlParameter("payload", NpgsqlDbType.Jsonb) { Value = variant.Payload is { } p ? p.GetRawText() : DBNull.Value });
            v.Parameters.AddWithValue("id", id);
            v.Parameters.AddWithValue("key", variant.Key);
            await v.ExecuteNonQueryAsync(cancellationToken);
        }

        var after = (await ReadAsync(connection, transaction, projectId, id, cancellationToken))!;
        await ExperimentStore.AuditAsync(connection, transaction, projectId, actor, action, id, before, after, cancellationToken);
        await GatewayOutbox.WriteAsync(connection, transaction,
            ExperimentMessages.Changed(projectId, id, after.ExperimentKey, changed, timeProvider.GetUtcNow()), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        outbox.Committed();
        return ChangeResult<Targeting>.Ok(after);
    }

    private static async Task<Targeting?> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string projectId, Guid id, CancellationToken cancellationToken, bool forUpdate = false)
    {
        Targeting? targeting;
        await using (var command = new NpgsqlCommand($"""
            SELECT status, bucketing_unit, salt, traffic_allocation, sticky_bucketing, segments::text, testers::text, key
            FROM gateway.experiments WHERE project_id = @project AND id = @id{(forUpdate ? " FOR UPDATE" : "")}
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("project", projectId);
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            targeting = await reader.ReadAsync(cancellationToken)
                ? new Targeting(id, reader.GetString(7), reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetBoolean(4),
                    TargetingJson.ReadSegments(reader.GetString(5)), TargetingJson.ReadTesters(reader.GetString(6)), [], [])
                : null;
        }
        if (targeting is null)
        {
            return null;
        }
        var variants = new List<VariantWithPayload>();
        await using (var command = new NpgsqlCommand(
            "SELECT key, name, traffic_weight, payload::text FROM gateway.variants WHERE experiment_id = @id ORDER BY position", connection, transaction))
        {
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                variants.Add(new VariantWithPayload(reader.GetString(0), reader.GetString(1), reader.GetDouble(2),
                    reader.IsDBNull(3) ? null : JsonDocument.Parse(reader.GetString(3)).RootElement.Clone()));
            }
        }
        var groups = new List<string>();
        await using (var command = new NpgsqlCommand("""
            SELECT g.key FROM gateway.exclusion_group_members m JOIN gateway.exclusion_groups g ON g.id = m.group_id
            WHERE m.experiment_id = @id ORDER BY g.key
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                groups.Add(reader.GetString(0));
            }
        }
        return targeting with { Variants = variants, ExclusionGroups = groups };
    }

    public async Task<ChangeResult<ExclusionGroup>> CreateGroupAsync(
        string projectId, string key, string name, string kind, int holdoutPercent, string bucketingUnit, string actor, CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO gateway.exclusion_groups (id, project_id, key, name, kind, bucketing_unit, salt, holdout_percent)
            VALUES (@id, @project, @key, @name, @kind, @unit, @salt, @holdout)
            ON CONFLICT (project_id, key) DO NOTHING
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", id);
            insert.Parameters.AddWithValue("project", projectId);
            insert.Parameters.AddWithValue("key", key);
            insert.Parameters.AddWithValue("name", name);
            insert.Parameters.AddWithValue("kind", kind);
            insert.Parameters.AddWithValue("unit", bucketingUnit);
            insert.Parameters.AddWithValue("salt", $"{kind}-{key}");
            insert.Parameters.AddWithValue("holdout", holdoutPercent);
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return ChangeResult<ExclusionGroup>.Fail(ChangeFailure.DuplicateKey, $"An exclusion group with key '{key}' already exists in project '{projectId}'.");
            }
        }
        var created = (await ReadGroupsAsync(connection, transaction, projectId, id, cancellationToken)).Single();
        await ExperimentStore.AuditAsync(connection, transaction, projectId, actor, "create", id, null, created, cancellationToken, "exclusion_group");
        await transaction.CommitAsync(cancellationToken);
        return ChangeResult<ExclusionGroup>.Ok(created);
    }

    public async Task<IReadOnlyList<ExclusionGroup>> ListGroupsAsync(string projectId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadGroupsAsync(connection, null, projectId, null, cancellationToken);
    }

    /// <summary>Adds (or reweights, with a weight) or removes an experiment in a group. Running members cannot change: it would move users.</summary>
    public async Task<ChangeResult<ExclusionGroup>> SetMemberAsync(
        string projectId, Guid groupId, Guid experimentId, double? weight, bool remove, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = (await ReadGroupsAsync(connection, transaction, projectId, groupId, cancellationToken, forUpdate: true)).SingleOrDefault();
        if (before is null)
        {
            return ChangeResult<ExclusionGroup>.Fail(ChangeFailure.NotFound, $"Exclusion group {groupId} was not found.");
        }
        var experiment = await ExperimentStore.ReadAsync(connection, transaction, projectId, experimentId, cancellationToken);
        if (experiment is null)
        {
            return ChangeResult<ExclusionGroup>.Fail(ChangeFailure.NotFound, $"Experiment {experimentId} was not found.");
        }
        var running = await RunningMemberAsync(connection, transaction, before, cancellationToken);
        if (running is not null && before.Kind == ExclusionGroupKinds.MutualExclusion)
        {
            return ChangeResult<ExclusionGroup>.Fail(ChangeFailure.WrongStatus,
                $"Experiment '{running}' of this mutual-exclusion group is running; changing the members would move its users. Stop it first.");
        }
        if (experiment.Status == ExperimentStatuses.Running)
        {
            return ChangeResult<ExclusionGroup>.Fail(ChangeFailure.WrongStatus,
                $"Experiment '{experiment.Key}' is running; joining or leaving a group would move its users. Stop it first.");
        }

        await using (var command = new NpgsqlCommand(remove
            ? "DELETE FROM gateway.exclusion_group_members WHERE group_id = @group AND experiment_id = @experiment"
            : """
              INSERT INTO gateway.exclusion_group_members (group_id, experiment_id, weight, position)
              VALUES (@group, @experiment, @weight, (SELECT count(*) FROM gateway.exclusion_group_members WHERE group_id = @group))
              ON CONFLICT (group_id, experiment_id) DO UPDATE SET weight = excluded.weight
              """, connection, transaction))
        {
            command.Parameters.AddWithValue("group", groupId);
            command.Parameters.AddWithValue("experiment", experimentId);
            command.Parameters.AddWithValue("weight", weight ?? 1);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        var after = (await ReadGroupsAsync(connection, transaction, projectId, groupId, cancellationToken)).Single();
        await ExperimentStore.AuditAsync(connection, transaction, projectId, actor, remove ? "remove_member" : "add_member", groupId, before, after,
            cancellationToken, "exclusion_group");
        await GatewayOutbox.WriteAsync(connection, transaction,
            ExperimentMessages.Changed(projectId, groupId, after.Key, "exclusion_group_changed", timeProvider.GetUtcNow()), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        outbox.Committed();
        return ChangeResult<ExclusionGroup>.Ok(after);
    }

    private static async Task<string?> RunningMemberAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, ExclusionGroup group, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT e.key FROM gateway.exclusion_group_members m JOIN gateway.experiments e ON e.id = m.experiment_id
            WHERE m.group_id = @group AND e.status = 'running' LIMIT 1
            """, connection, transaction);
        command.Parameters.AddWithValue("group", group.Id);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static async Task<List<ExclusionGroup>> ReadGroupsAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string projectId, Guid? id, CancellationToken cancellationToken, bool forUpdate = false)
    {
        var groups = new List<ExclusionGroup>();
        await using (var command = new NpgsqlCommand($"""
            SELECT id, project_id, key, name, kind, bucketing_unit, holdout_percent FROM gateway.exclusion_groups
            WHERE project_id = @project {(id is null ? "" : "AND id = @id")} ORDER BY key{(forUpdate ? " FOR UPDATE" : "")}
            """, connection, transaction))
        {
            command.Parameters.AddWithValue("project", projectId);
            if (id is not null)
            {
                command.Parameters.AddWithValue("id", id.Value);
            }
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                groups.Add(new ExclusionGroup(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), reader.GetInt32(6), []));
            }
        }
        for (var i = 0; i < groups.Count; i++)
        {
            var members = new List<ExclusionGroupMember>();
            await using var command = new NpgsqlCommand("""
                SELECT m.experiment_id, e.key, m.weight FROM gateway.exclusion_group_members m JOIN gateway.experiments e ON e.id = m.experiment_id
                WHERE m.group_id = @group ORDER BY m.position
                """, connection, transaction);
            command.Parameters.AddWithValue("group", groups[i].Id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                members.Add(new ExclusionGroupMember(reader.GetGuid(0), reader.GetString(1), reader.GetDouble(2)));
            }
            groups[i] = groups[i] with { Members = members };
        }
        return groups;
    }
}
