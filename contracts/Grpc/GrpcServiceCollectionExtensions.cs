using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Contracts.Grpc;

public static class GrpcServiceCollectionExtensions
{
    /// <summary>Registers the server's options, as Grpc.AspNetCore's <c>services.AddGrpc()</c> does.</summary>
    public static IServiceCollection AddGrpc(this IServiceCollection services, Action<GrpcServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddRouting();
        var options = services.AddOptions<GrpcServiceOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return services;
    }
}
