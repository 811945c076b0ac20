using System.Collections.Concurrent;
using Experiments.Contracts.Messages;
using Experiments.TestInfrastructure.Messaging;
using MassTransit;

namespace Experiments.Analysis.Tests.Support;

/// <summary>
/// The analysis service's alerts and bandit weights for one project, consumed from the real RabbitMQ through a
/// queue that goes away with the test. Every test class's queue hears every alert on the broker, so only the
/// project's own are kept.
/// </summary>
public sealed class AnalysisAlerts(string projectId) : IAsyncDisposable
{
    private readonly ConcurrentQueue<object> _received = new();
    private HostReceiveEndpointHandle? _endpoint;

    public IEnumerable<T> Of<T>() => _received.OfType<T>();

    public async Task ConnectAsync(IBus bus, string queuePrefix)
    {
        _endpoint = await bus.ConnectTestEndpointAsync(queuePrefix, endpoint =>
        {
            endpoint.Handler<SrmDetected>(context => Keep(context.Message.ProjectId, context.Message));
            endpoint.Handler<StatSigReached>(context => Keep(context.Message.ProjectId, context.Message));
            endpoint.Handler<ExperimentLongRunning>(context => Keep(context.Message.ProjectId, context.Message));
            endpoint.Handler<BanditWeightsUpdated>(context => Keep(context.Message.ProjectId, context.Message));
        });
    }

    private Task Keep(string project, object message)
    {
        if (project == projectId)
        {
            _received.Enqueue(message);
        }
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_endpoint is not null)
        {
            await _endpoint.StopAsync();
        }
    }
}
