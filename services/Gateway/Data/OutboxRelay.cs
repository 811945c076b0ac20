using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Experiments.Gateway.Data;

public sealed class OutboxOptions
{
    /// <summary>How often pending rows are looked for without a nudge (the safety net after a crash or an outage).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long one publish (until the broker's confirm) may take before the pass gives up and retries later.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Rows per pass (one transaction).</summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>How long sent rows are kept before the relay deletes them.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    public bool Enabled { get; set; } = true;
}

/// <summary>
/// Publishes the rows of <c>gateway.outbox</c> in id order with publisher confirms and marks them sent. One relay
/// at a time per database (a transaction-scoped advisory lock), so several gateway instances neither publish a row
/// twice nor out of order; the others wait for the lock and then find nothing left. A publish that fails (broker
/// away) ends the pass: the rows sent before it are committed as sent, it and the rows after it stay pending.
/// </summary>
public sealed partial class OutboxRelay(
    NpgsqlDataSource dataSource, IBus bus, GatewayOutbox outbox, IOptions<OutboxOptions> options, ILogger<OutboxRelay> logger) : BackgroundService
{
    /// <summary>One pass; returns how many rows it published (0 also when another instance held the lock too long).</summary>
    public async Task<int> RelayOnceAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand(
            "SET LOCAL lock_timeout = '5s'; SELECT pg_advisory_xact_lock(hashtext('gateway.outbox'))", connection, transaction))
        {
            try
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                return 0; // Another instance is relaying (probably stuck on the broker); the next poll tries again.
            }
        }

        var pending = new List<(long Id, string Type, string Json)>();
        await using (var select = new NpgsqlCommand(
            "SELECT id, message_type, message::text FROM gateway.outbox WHERE sent_at IS NULL ORDER BY id LIMIT @limit", connection, transaction))
        {
            select.Parameters.AddWithValue("limit", settings.BatchSize);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                pending.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2)));
            }
        }

        var sent = 0;
        foreach (var (id, type, json) in pending)
        {
            if (GatewayOutbox.Read(type, json) is not { } message)
            {
                await MarkFailedAsync(connection, transaction, id, $"Unknown message type {type}; left for a gateway version that knows it.", cancellationToken);
                continue;
            }
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(settings.PublishTimeout);
                await bus.Publish(message, message.GetType(), timeout.Token);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogPublishFailed(id, type, ex.Message);
                await MarkFailedAsync(connection, transaction, id, ex.Message, CancellationToken.None);
                break;
            }
            await using var mark = new NpgsqlCommand(
                "UPDATE gateway.outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = @id", connection, transaction);
            mark.Parameters.AddWithValue("id", id);
            await mark.ExecuteNonQueryAsync(CancellationToken.None);
            sent++;
        }

        await using (var prune = new NpgsqlCommand("DELETE FROM gateway.outbox WHERE sent_at < now() - @retention", connection, transaction))
        {
            prune.Parameters.AddWithValue("retention", settings.Retention);
            await prune.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(CancellationToken.None);
        return sent;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var full = false;
            try
            {
                full = await RelayOnceAsync(stoppingToken) >= settings.BatchSize;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogPassFailed(ex);
            }
            if (!full)
            {
                try
                {
                    await outbox.Signal.WaitAsync(settings.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static async Task MarkFailedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, string error, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "UPDATE gateway.outbox SET attempts = attempts + 1, last_error = @error WHERE id = @id", connection, transaction);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("error", error.Length > 2000 ? error[..2000] : error);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(LogLevel.Warning, "Outbox row {Id} ({Type}) not published ({Message}); it and the rows after it stay pending")]
    private partial void LogPublishFailed(long id, string type, string message);

    [LoggerMessage(LogLevel.Warning, "Outbox pass failed; retrying at the next poll")]
    private partial void LogPassFailed(Exception exception);
}
