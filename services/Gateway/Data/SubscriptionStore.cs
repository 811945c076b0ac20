using System.Text.Json;
using Experiments.Gateway.Model;
using Npgsql;
using NpgsqlTypes;

namespace Experiments.Gateway.Data;

/// <summary>
/// Notification subscriptions in the gateway's schema (read by the notifications service). Secrets are written
/// here and never read back by the API; audit entries carry the masked view.
/// </summary>
public sealed class SubscriptionStore(NpgsqlDataSource dataSource, TimeProvider timeProvider)
{
    private const string Select = """
        SELECT id, project_id, experiment_id, name, kind, url, secret IS NOT NULL, event_types, enabled, created_at, updated_at
        FROM gateway.subscriptions
        """;

    public async Task<ChangeResult<SubscriptionView>> CreateAsync(
        string projectId, Guid? experimentId, string name, string kind, string url, string? secret, IReadOnlyList<string> eventTypes, bool enabled,
        string actor, CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        if (experimentId is { } experiment)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM gateway.experiments WHERE id = @id AND project_id = @project", connection, transaction);
            exists.Parameters.AddWithValue("id", experiment);
            exists.Parameters.AddWithValue("project", projectId);
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                return ChangeResult<SubscriptionView>.Fail(ChangeFailure.NotFound, $"Experiment {experiment} was not found in project '{projectId}'.");
            }
        }
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO gateway.subscriptions (id, project_id, experiment_id, name, kind, url, secret, event_types, enabled, created_at, updated_at)
            VALUES (@id, @project, @experiment, @name, @kind, @url, @secret, @types, @enabled, @now, @now)
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("id", id);
            insert.Parameters.AddWithValue("project", projectId);
            insert.Parameters.AddWithValue("experiment", NpgsqlDbType.Uuid, experimentId is { } e ? e : DBNull.Value);
            insert.Parameters.AddWithValue("name", name);
            insert.Parameters.AddWithValue("kind", kind);
            insert.Parameters.AddWithValue("url", url);
            insert.Parameters.AddWithValue("secret", NpgsqlDbType.Text, secret is null ? DBNull.Value : secret);
            insert.Parameters.AddWithValue("types", eventTypes.ToArray());
            insert.Parameters.AddWithValue("enabled", enabled);
            insert.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        var created = (await ReadAsync(connection, transaction, projectId, id, cancellationToken))!;
        await AuditAsync(connection, transaction, projectId, actor, "create", id, null, created, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ChangeResult<SubscriptionView>.Ok(created);
    }

    public async Task<SubscriptionView?> GetAsync(string projectId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadAsync(connection, null, projectId, id, cancellationToken);
    }

    public async Task<IReadOnlyList<SubscriptionView>> ListAsync(string projectId, Guid? experimentId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            {Select}
            WHERE project_id = @project AND deleted_at IS NULL AND (@experiment::uuid IS NULL OR experiment_id = @experiment)
            ORDER BY created_at DESC, id
            """);
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("experiment", NpgsqlDbType.Uuid, experimentId is { } e ? e : DBNull.Value);
        var list = new List<SubscriptionView>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(Map(reader));
        }
        return list;
    }

    /// <summary>Soft delete: the delivery log keeps its rows; pending deliveries are parked by the notifications service.</summary>
    /// <summary>Changes the fields given (null keeps a field), audited with before and after (secrets never in either).</summary>
    public async Task<ChangeResult<SubscriptionView>> UpdateAsync(
        string projectId, Guid id, string? name, string? url, string? secret, IReadOnlyList<string>? eventTypes, Guid? experimentId, bool? enabled,
        string actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await ReadAsync(connection, transaction, projectId, id, cancellationToken);
        if (before is null)
        {
            return ChangeResult<SubscriptionView>.Fail(ChangeFailure.NotFound, $"Subscription {id} was not found.");
        }
        if (experimentId is { } experiment)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM gateway.experiments WHERE id = @id AND project_id = @project", connection, transaction);
            exists.Parameters.AddWithValue("id", experiment);
            exists.Parameters.AddWithValue("project", projectId);
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                return ChangeResult<SubscriptionView>.Fail(ChangeFailure.WrongStatus, $"Experiment {experiment} was not found in project '{projectId}'.");
            }
        }
        await using (var update = new NpgsqlCommand("""
            UPDATE gateway.subscriptions SET name = COALESCE(@name, name), url = COALESCE(@url, url), secret = COALESCE(@secret, secret),
                event_types = COALESCE(@types, event_types), experiment_id = COALESCE(@experiment, experiment_id),
                enabled = COALESCE(@enabled, enabled), updated_at = @now
            WHERE id = @id AND project_id = @project AND deleted_at IS NULL
            """, connection, transaction))
        {
            update.Parameters.AddWithValue("id", id);
            update.Parameters.AddWithValue("project", projectId);
            update.Parameters.AddWithValue("name", NpgsqlDbType.Text, name is null ? DBNull.Value : name);
            update.Parameters.AddWithValue("url", NpgsqlDbType.Text, url is null ? DBNull.Value : url);
            update.Parameters.AddWithValue("secret", NpgsqlDbType.Text, secret is null ? DBNull.Value : secret);
            update.Parameters.AddWithValue("types", NpgsqlDbType.Array | NpgsqlDbType.Text, eventTypes is null ? DBNull.Value : eventTypes.ToArray());
            update.Parameters.AddWithValue("experiment", NpgsqlDbType.Uuid, experimentId is { } e ? e : DBNull.Value);
            update.Parameters.AddWithValue("enabled", NpgsqlDbType.Boolean, enabled is { } on ? on : DBNull.Value);
            update.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        var after = (await ReadAsync(connection, transaction, projectId, id, cancellationToken))!;
        await AuditAsync(connection, transaction, projectId, actor, secret is null ? "update" : "update_rotate_secret", id, before, after, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return ChangeResult<SubscriptionView>.Ok(after);
    }

    public async Task<bool> DeleteAsync(string projectId, Guid id, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var before = await ReadAsync(connection, transaction, projectId, id, cancellationToken);
        if (before is null)
        {
            return false;
        }
        await using (var delete = new NpgsqlCommand(
            "UPDATE gateway.subscriptions SET deleted_at = @now, updated_at = @now WHERE id = @id AND project_id = @project AND deleted_at IS NULL",
            connection, transaction))
        {
            delete.Parameters.AddWithValue("id", id);
            delete.Parameters.AddWithValue("project", projectId);
            delete.Parameters.AddWithValue("now", timeProvider.GetUtcNow());
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await AuditAsync(connection, transaction, projectId, actor, "delete", id, before, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>What the API shows of a URL: webhooks in full, Slack's only to the workspace id (the rest is a token).</summary>
    public static string MaskUrl(string kind, string url)
    {
        if (kind != "slack" || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            return url;
        }
        var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var kept = segments.Length > 2 ? string.Join('/', segments.Take(2)) + "/…" : "…";
        return $"{uri.Scheme}://{uri.Authority}/{kept}";
    }

    private static async Task<SubscriptionView?> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string projectId, Guid id, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"{Select} WHERE id = @id AND project_id = @project AND deleted_at IS NULL", connection, transaction);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("project", projectId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Map(reader) : null;
    }

    private static SubscriptionView Map(NpgsqlDataReader reader)
    {
        var kind = reader.GetString(4);
        return new SubscriptionView(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetGuid(2), reader.GetString(3), kind,
            MaskUrl(kind, reader.GetString(5)), reader.GetBoolean(6), reader.GetFieldValue<string[]>(7), reader.GetBoolean(8),
            reader.GetFieldValue<DateTimeOffset>(9), reader.GetFieldValue<DateTimeOffset>(10));
    }

    private Task AuditAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string projectId, string actor, string action, Guid id,
        SubscriptionView? before, SubscriptionView? after, CancellationToken cancellationToken)
        => AuditLog.WriteAsync(connection, transaction, projectId, actor, action, "subscription", id.ToString(), before, after, cancellationToken, timeProvider.GetUtcNow());
}
