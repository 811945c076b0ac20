using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Contracts.Grpc;

public static class GrpcClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers a generated client as a transient service over a channel shared by every client of the same
    /// target, as Grpc.Net.ClientFactory's <c>services.AddGrpcClient&lt;TClient&gt;(o =&gt; o.Address = ...)</c>.
    /// </summary>
    public static IServiceCollection AddGrpcClient<TClient>(this IServiceCollection services, Action<GrpcHttpClientOptions> configure)
        where TClient : ClientBase
    {
        ArgumentNullException.ThrowIfNull(configure);
        return services.AddGrpcClient<TClient>((_, options) => configure(options));
    }

    /// <summary>
    /// As <see cref="AddGrpcClient{TClient}(IServiceCollection, Action{GrpcHttpClientOptions})"/>, with the service
    /// provider at hand, e.g. <c>(sp, o) =&gt; o.Address = GrpcHttpChannel.ResolveAddress(sp.GetRequiredService&lt;IConfiguration&gt;(), "assignment")</c>.
    /// </summary>
    public static IServiceCollection AddGrpcClient<TClient>(this IServiceCollection services, Action<IServiceProvider, GrpcHttpClientOptions> configure)
        where TClient : ClientBase
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddSingleton<GrpcHttpChannelRegistry>();
        services.AddTransient(provider =>
        {
            var options = new GrpcHttpClientOptions();
            configure(provider, options);
            if (options.Address is null)
            {
                throw new InvalidOperationException($"No address was configured for the gRPC client {typeof(TClient).Name}.");
            }

            var channel = provider.GetRequiredService<GrpcHttpChannelRegistry>().Get(options);
            return (TClient)Activator.CreateInstance(typeof(TClient), channel.CreateCallInvoker())!;
        });
        return services;
    }

    /// <summary>One channel (one HttpClient and handler) per target and settings, disposed with the container.</summary>
    internal sealed class GrpcHttpChannelRegistry : IDisposable
    {
        private readonly ConcurrentDictionary<(Uri Address, int? MaxReceive, int? MaxSend), Lazy<GrpcHttpChannel>> _channels = new();

        public int Count => _channels.Count;

        public GrpcHttpChannel Get(GrpcHttpClientOptions options) =>
            _channels.GetOrAdd((options.Address!, options.MaxReceiveMessageSize, options.MaxSendMessageSize), static key =>
                new Lazy<GrpcHttpChannel>(() => GrpcHttpChannel.ForAddress(key.Address, new GrpcHttpChannelOptions
                {
                    MaxReceiveMessageSize = key.MaxReceive,
                    MaxSendMessageSize = key.MaxSend,
                }))).Value;

        public void Dispose()
        {
            foreach (var channel in _channels.Values)
            {
                if (channel.IsValueCreated)
                {
                    channel.Value.Dispose();
                }
            }
        }
    }
}
