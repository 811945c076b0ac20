namespace Experiments.Contracts.Grpc;

/// <summary>
/// What <see cref="GrpcClientServiceCollectionExtensions.AddGrpcClient{TClient}(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{GrpcHttpClientOptions})"/>
/// needs: the target address (as in Grpc.Net.ClientFactory's <c>o.Address = ...</c>) and the channel settings.
/// </summary>
public sealed class GrpcHttpClientOptions
{
    public Uri? Address { get; set; }

    public int? MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    public int? MaxSendMessageSize { get; set; }
}
