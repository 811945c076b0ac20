using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Experiments.Gateway.Data;

/// <summary>The audit log (gateway.audit_log): who changed what, when, before and after, in the change's transaction.</summary>
public static class AuditLog
{
    /// <summary>Writes one row; <paramref name="occurredAt"/> null lets the database stamp it.</summary>
    public static async Task WriteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string projectId, string actor, string action, string entityType, string entityId,
        object? before, object? after, CancellationToken cancellationToken, DateTimeOffset? occurredAt = null)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO gateway.audit_log (project_id, actor, action, entity_type, entity_id, before, after, occurred_at)
            VALUES (@project, @actor, @action, @type, @id, @before, @after, COALESCE(@at, now()))
            """, connection, transaction);
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("actor", actor);
        command.Parameters.AddWithValue("action", action);
        command.Parameters.AddWithValue("type", entityType);
        command.Parameters.AddWithValue("id", entityId);
        command.Parameters.Add(new NpgsqlParameter("before", NpgsqlDbType.Jsonb) { Value = before is null ? DBNull.Value : JsonSerializer.Serialize(before) });
        command.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Jsonb) { Value = after is null ? DBNull.Value : JsonSerializer.Serialize(after) });
        command.Parameters.Add(new NpgsqlParameter("at", NpgsqlDbType.TimestampTz) { Value = occurredAt is { } at ? at : DBNull.Value });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
