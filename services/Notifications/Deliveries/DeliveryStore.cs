using Experiments.Notifications.Events;
using Npgsql;
using NpgsqlTypes;

namespace Experiments.Notifications.Deliveries;

/// <summary>
/// The delivery log and outbox (schema <c>notifications</c>). Subscriptions are read from the gateway's
/// <c>gateway.subscriptions</c> (read-only). The unique key (event_id, subscription_id) is what makes a
/// notification reach each subscriber once, whatever RabbitMQ redelivers.
/// </summary>
public sealed class DeliveryStore(NpgsqlDataSource dataSource)
{
    private const string SelectDelivery = """
        SELECT id, subscription_id, event_id, event_type, experiment_id, status, attempts, max_attempts, last_error, last_status_code,
               created_at, updated_at, CASE WHEN status IN ('pending', 'delivering') THEN next_attempt_at END, delivered_at
        FROM notifications.deliveries
        """;

    /// <summary>
    /// Records the event (once) and creates a pending delivery for each matching subscription (once per
    /// subscription), in one transaction. Returns how many deliveries are new.
    /// </summary>
    public async Task<int> AcceptAsync(NotificationEvent e, int maxAttempts, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await RecordEventAsync(connection, transaction, e, cancellationToken);

        await using var fanOut = new NpgsqlCommand("""
            INSERT INTO notifications.deliveries (id, event_id, subscription_id, project_id, experiment_id, event_type, status, max_attempts)
            SELECT gen_random_uuid(), @event, s.id, s.project_id, @experiment, @type, 'pending', @max
            FROM gateway.subscriptions s
            WHERE s.project_id = @project AND s.deleted_at IS NULL AND s.enabled
              AND (s.experiment_id IS NULL OR s.experiment_id = @experiment)
              AND @type = ANY (s.event_types)
            ON CONFLICT (event_id, subscription_id) DO NOTHING
            """, connection, transaction);
        fanOut.Parameters.AddWithValue("event", e.EventId);
        fanOut.Parameters.AddWithValue("experiment", NpgsqlDbType.Uuid, e.ExperimentId is { } id ? id : DBNull.Value);
        fanOut.Parameters.AddWithValue("type", e.Type);
        fanOut.Parameters.AddWithValue("project", e.ProjectId);
        fanOut.Parameters.AddWithValue("max", maxAttempts);
        var created = await fanOut.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return created;
    }

    /// <summary>
    /// A test delivery for one subscription of the project, already claimed for its single try; null when the
    /// subscription isn't the project's (or was deleted).
    /// </summary>
    public async Task<DeliveryWork?> CreateTestAsync(string projectId, Guid subscriptionId, NotificationEvent e, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await RecordEventAsync(connection, transaction, e, cancellationToken);
        await using var insert = new NpgsqlCommand("""
            INSERT INTO notifications.deliveries (id, event_id, subscription_id, project_id, experiment_id, event_type, status, attempts, max_attempts, locked_until)
            SELECT gen_random_uuid(), @event, s.id, s.project_id, s.experiment_id, @type, 'delivering', 1, 1, now() + @lease
            FROM gateway.subscriptions s
            WHERE s.id = @subscription AND s.project_id = @project AND s.deleted_at IS NULL
            RETURNING id
            """, connection, transaction);
        insert.Parameters.AddWithValue("event", e.EventId);
        insert.Parameters.AddWithValue("type", e.Type);
        insert.Parameters.AddWithValue("lease", lease);
        insert.Parameters.AddWithValue("subscription", subscriptionId);
        insert.Parameters.AddWithValue("project", projectId);
        if (await insert.ExecuteScalarAsync(cancellationToken) is not Guid id)
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }
        await transaction.CommitAsync(cancellationToken);
        return (await LoadWorkAsync(connection, [id], cancellationToken)).Single();
    }

    /// <summary>
    /// Claims up to <paramref name="limit"/> due deliveries (pending and due, or delivering with an expired lease)
    /// with FOR UPDATE SKIP LOCKED, counting the try.
    /// </summary>
    public async Task<IReadOnlyList<DeliveryWork>> ClaimAsync(int limit, TimeSpan lease, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var ids = new List<Guid>();
        await using (var claim = new NpgsqlCommand("""
            WITH due AS (
                SELECT id FROM notifications.deliveries
                WHERE (status = 'pending' AND next_attempt_at <= now()) OR (status = 'delivering' AND locked_until < now())
                ORDER BY next_attempt_at
                LIMIT @limit
                FOR UPDATE SKIP LOCKED)
            UPDATE notifications.deliveries d
            SET status = 'delivering', attempts = d.attempts + 1, locked_until = now() + @lease, updated_at = now()
            FROM due WHERE d.id = due.id
            RETURNING d.id
            """, connection))
        {
            claim.Parameters.AddWithValue("limit", limit);
            claim.Parameters.AddWithValue("lease", lease);
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetGuid(0));
            }
        }
        return ids.Count == 0 ? [] : await LoadWorkAsync(connection, ids, cancellationToken);
    }

    public Task CompleteAsync(DeliveryWork work, int statusCode, CancellationToken cancellationToken) => UpdateAsync("""
        UPDATE notifications.deliveries
        SET status = 'delivered', delivered_at = now(), updated_at = now(), locked_until = NULL, last_status_code = @code, last_error = NULL
        WHERE id = @id AND status = 'delivering' AND attempts = @attempt
        """, work, statusCode, null, null, cancellationToken);

    public Task RetryLaterAsync(DeliveryWork work, TimeSpan delay, int? statusCode, string error, CancellationToken cancellationToken) => UpdateAsync("""
        UPDATE notifications.deliveries
        SET status = 'pending', next_attempt_at = now() + @delay, updated_at = now(), locked_until = NULL, last_status_code = @code, last_error = @error
        WHERE id = @id AND status = 'delivering' AND attempts = @attempt
        """, work, statusCode, error, delay, cancellationToken);

    public Task ParkAsync(DeliveryWork work, int? statusCode, string error, CancellationToken cancellationToken) => UpdateAsync("""
        UPDATE notifications.deliveries
        SET status = 'failed', updated_at = now(), locked_until = NULL, last_status_code = @code, last_error = @error
        WHERE id = @id AND status = 'delivering' AND attempts = @attempt
        """, work, statusCode, error, null, cancellationToken);

    /// <summary>The project's deliveries, newest first, optionally for one subscription and in one status.</summary>
    public async Task<IReadOnlyList<DeliveryRecord>> ListAsync(string projectId, Guid? subscriptionId, string? status, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            {SelectDelivery}
            WHERE project_id = @project AND (@subscription::uuid IS NULL OR subscription_id = @subscription) AND (@status::text IS NULL OR status = @status)
            ORDER BY created_at DESC, id
            LIMIT @limit
            """);
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("subscription", NpgsqlDbType.Uuid, subscriptionId is { } s ? s : DBNull.Value);
        command.Parameters.AddWithValue("status", NpgsqlDbType.Text, status is null ? DBNull.Value : status);
        command.Parameters.AddWithValue("limit", limit);
        return await ReadRecordsAsync(command, cancellationToken);
    }

    public async Task<DeliveryRecord?> GetAsync(string projectId, Guid id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"{SelectDelivery} WHERE project_id = @project AND id = @id");
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("id", id);
        return (await ReadRecordsAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>Puts a failed delivery back in the queue with a fresh budget of tries; null when it isn't failed (or isn't there).</summary>
    public async Task<DeliveryRecord?> ReplayAsync(string projectId, Guid id, int maxAttempts, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE notifications.deliveries
            SET status = 'pending', attempts = 0, max_attempts = @max, next_attempt_at = now(), updated_at = now(), locked_until = NULL
            WHERE project_id = @project AND id = @id AND status = 'failed'
            """);
        command.Parameters.AddWithValue("project", projectId);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("max", maxAttempts);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? await GetAsync(projectId, id, cancellationToken) : null;
    }

    private async Task UpdateAsync(string sql, DeliveryWork work, int? statusCode, string? error, TimeSpan? delay, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.AddWithValue("id", work.Id);
        command.Parameters.AddWithValue("attempt", work.Attempt);
        command.Parameters.AddWithValue("code", NpgsqlDbType.Integer, statusCode is { } c ? c : DBNull.Value);
        if (error is not null)
        {
            command.Parameters.AddWithValue("error", error.Length > 1000 ? error[..1000] : error);
        }
        if (delay is { } d)
        {
            command.Parameters.AddWithValue("delay", d);
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task RecordEventAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, NotificationEvent e, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO notifications.received_events (event_id, event_type, project_id, experiment_id, payload, occurred_at)
            VALUES (@id, @type, @project, @experiment, @payload, @at)
            ON CONFLICT (event_id) DO NOTHING
            """, connection, transaction);
        command.Parameters.AddWithValue("id", e.EventId);
        command.Parameters.AddWithValue("type", e.Type);
        command.Parameters.AddWithValue("project", e.ProjectId);
        command.Parameters.AddWithValue("experiment", NpgsqlDbType.Uuid, e.ExperimentId is { } id ? id : DBNull.Value);
        command.Parameters.AddWithValue("payload", NpgsqlDbType.Jsonb, e.PayloadJson);
        command.Parameters.AddWithValue("at", e.OccurredAt);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<IReadOnlyList<DeliveryWork>> LoadWorkAsync(NpgsqlConnection connection, IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT d.id, d.subscription_id, d.attempts, d.max_attempts,
                   e.event_id, e.event_type, e.project_id, e.experiment_id, COALESCE(e.occurred_at, e.received_at), e.payload::text,
                   s.id, s.kind, s.url, s.secret, s.deleted_at IS NULL AND s.enabled
            FROM notifications.deliveries d
            JOIN notifications.received_events e ON e.event_id = d.event_id
            LEFT JOIN gateway.subscriptions s ON s.id = d.subscription_id
            WHERE d.id = ANY (@ids)
            """, connection);
        command.Parameters.AddWithValue("ids", ids.ToArray());
        var work = new List<DeliveryWork>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var e = new NotificationEvent(reader.GetGuid(4), reader.GetString(5), reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetGuid(7), reader.GetFieldValue<DateTimeOffset>(8), reader.GetString(9));
            var target = reader.IsDBNull(10) ? null
                : new SubscriptionTarget(reader.GetGuid(10), reader.GetString(11), reader.GetString(12), reader.IsDBNull(13) ? null : reader.GetString(13), reader.GetBoolean(14));
            work.Add(new DeliveryWork(reader.GetGuid(0), reader.GetGuid(1), reader.GetInt32(2), reader.GetInt32(3), e, target));
        }
        return work;
    }

    private static async Task<IReadOnlyList<DeliveryRecord>> ReadRecordsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var records = new List<DeliveryRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(new DeliveryRecord(reader.GetGuid(0), reader.GetGuid(1), reader.GetGuid(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetGuid(4), reader.GetString(5), reader.GetInt32(6), reader.GetInt32(7),
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.IsDBNull(9) ? null : reader.GetInt32(9),
                reader.GetFieldValue<DateTimeOffset>(10), reader.GetFieldValue<DateTimeOffset>(11),
                reader.IsDBNull(12) ? null : reader.GetFieldValue<DateTimeOffset>(12),
                reader.IsDBNull(13) ? null : reader.GetFieldValue<DateTimeOffset>(13)));
        }
        return records;
    }
}
