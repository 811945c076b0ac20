using System.Collections.Frozen;
using System.Text.Json;
using Experiments.Contracts.Messages;
using Experiments.Messaging;
using Npgsql;
using NpgsqlTypes;

namespace Experiments.Gateway.Data;

/// <summary>
/// The gateway's transactional outbox (table <c>gateway.outbox</c>, migration 0011). A store writes the events of a
/// change with <see cref="WriteAsync"/> in the change's own transaction, so that the change and its events commit or
/// roll back together, and calls <see cref="Committed"/> after the commit: that wakes <see cref="OutboxRelay"/>, which
/// publishes right away (the poll is only the safety net for crashes and broker outages).
/// </summary>
public sealed class GatewayOutbox
{
    /// <summary>The messages the gateway publishes; the relay reads nothing else back.</summary>
    private static readonly FrozenDictionary<string, Type> Types = new[]
    {
        typeof(ExperimentChanged), typeof(ExperimentStarted), typeof(ExperimentEnded), typeof(ExperimentAboutToStart),
    }.ToFrozenDictionary(t => t.FullName!);

    internal WakeSignal Signal { get; } = new();

    /// <summary>Appends <paramref name="messages"/>, in order, to the outbox in the caller's transaction.</summary>
    public static async Task WriteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<object> messages, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            var type = message.GetType();
            if (!Types.ContainsKey(type.FullName!))
            {
                throw new ArgumentException($"{type.FullName} is not a message the gateway's outbox relays.", nameof(messages));
            }
            await using var insert = new NpgsqlCommand(
                "INSERT INTO gateway.outbox (message_type, message) VALUES (@type, @message)", connection, transaction);
            insert.Parameters.AddWithValue("type", type.FullName!);
            insert.Parameters.Add(new NpgsqlParameter("message", NpgsqlDbType.Jsonb) { Value = JsonSerializer.Serialize(message, type) });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>A transaction that wrote to the outbox committed: publish now rather than at the next poll.</summary>
    public void Committed() => Signal.Notify();

    /// <summary>The stored message back as its contract record, or null for a type this version does not know.</summary>
    internal static object? Read(string messageType, string json)
        => Types.TryGetValue(messageType, out var type) ? JsonSerializer.Deserialize(json, type) : null;
}
