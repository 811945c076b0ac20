using Experiments.Messaging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Experiments.Ingest.Pipeline;

/// <summary>
/// The events queue when <see cref="IngestOptions.QueueExpiry"/> is set. MassTransit's send to <c>queue:name</c> declares
/// the queue without arguments, which RabbitMQ refuses (PRECONDITION_FAILED) once the consumer declared it with
/// <c>x-expires</c>. So the publisher sends to the queue's exchange instead, mandatory (a batch no queue took comes back
/// and the request answers 503), after this declared the exchange, the queue with <c>x-expires</c> and their binding
/// exactly as the receive endpoint declares them, so a batch is kept even before the consumer started.
/// </summary>
public sealed class ExpiringEventQueue(IConfiguration configuration, IngestQueues queues, IOptions<IngestOptions> options)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _declared;

    /// <summary>Where the publisher sends: the queue's exchange (bound to the queue, declared by the receive endpoint too).</summary>
    public Uri SendAddress { get; } = new($"exchange:{queues.Events}");

    public async Task EnsureDeclaredAsync(CancellationToken cancellationToken)
    {
        if (_declared)
        {
            return;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_declared)
            {
                return;
            }
            var factory = new ConnectionFactory
            {
                Uri = new Uri(configuration.GetConnectionString(MessagingExtensions.ConnectionName)
                    ?? throw new InvalidOperationException("ConnectionStrings:rabbitmq is not configured.")),
                ClientProvidedName = "ingest-expiring-queue",
            };
            await using var connection = await factory.CreateConnectionAsync(cancellationToken);
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            await channel.ExchangeDeclareAsync(queues.Events, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueDeclareAsync(queues.Events, durable: true, exclusive: false, autoDelete: false,
                new Dictionary<string, object?> { [IngestQueues.ExpiresArgument] = IngestQueues.ExpiryMilliseconds(options.Value.QueueExpiry) },
                cancellationToken: cancellationToken);
            await channel.QueueBindAsync(queues.Events, queues.Events, "", cancellationToken: cancellationToken);
            _declared = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A batch came back unrouted (the queue is gone): declare it again before the next send.</summary>
    public void Invalidate() => _declared = false;
}
