using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Experiments.Notifications.Consumers;

/// <summary>Records each event once; returns false for a redelivery so that nothing is notified twice.</summary>
public sealed class ReceivedEventLog(NpgsqlDataSource dataSource)
{
    public async Task<bool> TryRecordAsync<T>(Guid eventId, string projectId, Guid? experimentId, T payload, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO notifications.received_events (event_id, event_type, project_id, experiment_id, payload)
            VALUES (@id, @type, @project, @experiment, @payload)
            ON CONFLICT (event_id) DO NOTHING
            """);
        command.Parameters.AddWithValue("id", eventId);
        command.Parameters.AddWithValue("type", typeof(T).Name);
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("experiment", experimentId is { } id ? id : DBNull.Value);
        command.Parameters.Add(new NpgsqlParameter("payload", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(payload) });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
