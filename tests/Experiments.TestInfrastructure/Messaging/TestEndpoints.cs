using Experiments.TestInfrastructure.Servers;
using MassTransit;

namespace Experiments.TestInfrastructure.Messaging;

/// <summary>Receive endpoints that tests connect to a real bus to watch what is published.</summary>
public static class TestEndpoints
{
    /// <summary>
    /// Connects a receive endpoint on a uniquely named queue that RabbitMQ deletes when the test disconnects
    /// (auto-delete, not durable), so no queue is left behind collecting copies of later messages; ready when returned.
    /// </summary>
    public static async Task<HostReceiveEndpointHandle> ConnectTestEndpointAsync(this IBus bus, string prefix, Action<IReceiveEndpointConfigurator> configure)
    {
        var handle = bus.ConnectReceiveEndpoint(UniqueNames.Database(prefix), endpoint =>
        {
            if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
            {
                rabbit.AutoDelete = true;
                rabbit.Durable = false;
            }
            configure(endpoint);
        });
        await handle.Ready;
        return handle;
    }
}
