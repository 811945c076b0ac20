using System.Text;
using Experiments.Messaging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Experiments.Ingest.Pipeline;

/// <summary>A parked message as an operator sees it: why it was parked, when, and its size.</summary>
public sealed record ParkedMessage(string? MessageId, string? Reason, string? ExceptionType, string? ParkedAt, int Bytes);

/// <summary>
/// The operator's view of the <c>_error</c> queues beside the ingest queues: count, peek (messages stay parked), and
/// replay (move messages back to their queue, without their fault headers, each one confirmed by the broker before
/// it leaves the error queue). Replaying is safe to repeat: rows carry insert ids.
/// </summary>
public sealed class ErrorQueues(IConfiguration configuration)
{
    private readonly ConnectionFactory _factory = new()
    {
        Uri = new Uri(configuration.GetConnectionString(MessagingExtensions.ConnectionName)
            ?? throw new InvalidOperationException("ConnectionStrings:rabbitmq is not configured.")),
        ClientProvidedName = "ingest-error-queues",
    };

    public async Task<uint> CountAsync(string queue, CancellationToken cancellationToken)
    {
        await using var connection = await _factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            var declared = await channel.QueueDeclarePassiveAsync(IngestQueues.ErrorQueue(queue), cancellationToken);
            return declared.MessageCount;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0; // nothing was ever parked
        }
    }

    /// <summary>Up to <paramref name="limit"/> parked messages; they stay in the error queue.</summary>
    public async Task<IReadOnlyList<ParkedMessage>> PeekAsync(string queue, int limit, CancellationToken cancellationToken)
    {
        if (await CountAsync(queue, cancellationToken) == 0)
        {
            return [];
        }
        await using var connection = await _factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var parked = new List<ParkedMessage>();
        ulong last = 0;
        while (parked.Count < limit && await channel.BasicGetAsync(IngestQueues.ErrorQueue(queue), autoAck: false, cancellationToken) is { } message)
        {
            last = message.DeliveryTag;
            var headers = message.BasicProperties.Headers;
            parked.Add(new ParkedMessage(message.BasicProperties.MessageId ?? Header(headers, "MT-Fault-MessageId"), Header(headers, "MT-Fault-Message"),
                Header(headers, "MT-Fault-ExceptionType"), Header(headers, "MT-Fault-Timestamp"), message.Body.Length));
        }
        if (last != 0)
        {
            await channel.BasicNackAsync(last, multiple: true, requeue: true, cancellationToken);
        }
        return parked;
    }

    /// <summary>Moves up to <paramref name="limit"/> parked messages back to <paramref name="queue"/>; returns how many moved.</summary>
    public async Task<int> ReplayAsync(string queue, int limit, CancellationToken cancellationToken)
    {
        if (await CountAsync(queue, cancellationToken) == 0)
        {
            return 0;
        }
        await using var connection = await _factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        var moved = 0;
        while (moved < limit && await channel.BasicGetAsync(IngestQueues.ErrorQueue(queue), autoAck: false, cancellationToken) is { } message)
        {
            var properties = new BasicProperties(message.BasicProperties) { Persistent = true };
            if (properties.Headers is { } headers)
            {
                properties.Headers = headers.Where(h => !h.Key.StartsWith("MT-Fault-", StringComparison.Ordinal) && h.Key != "MT-Reason")
                    .ToDictionary(h => h.Key, h => h.Value);
            }
            // Confirmed by the broker (tracking is on) before the parked copy is acknowledged away.
            await channel.BasicPublishAsync("", queue, mandatory: true, properties, message.Body, cancellationToken);
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken);
            moved++;
        }
        return moved;
    }

    private static string? Header(IDictionary<string, object?>? headers, string name)
        => headers is not null && headers.TryGetValue(name, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            null => null,
            _ => value.ToString(),
        } : null;
}
