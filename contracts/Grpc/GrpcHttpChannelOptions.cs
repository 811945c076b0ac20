namespace Experiments.Contracts.Grpc;

/// <summary>Client settings; property names follow Grpc.Net.Client's <c>GrpcChannelOptions</c>.</summary>
public sealed class GrpcHttpChannelOptions
{
    /// <summary>Largest response message accepted; larger ones fail with RESOURCE_EXHAUSTED. Null: no limit.</summary>
    public int? MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>Largest request message sent; larger ones fail with RESOURCE_EXHAUSTED before sending. Null: no limit.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>An HttpClient to send calls with instead of the channel's own (its Timeout should be infinite: deadlines govern).</summary>
    public HttpClient? HttpClient { get; set; }

    /// <summary>A handler to build the channel's HttpClient on, instead of the default SocketsHttpHandler.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Whether disposing the channel disposes <see cref="HttpClient"/> when one was given.</summary>
    public bool DisposeHttpClient { get; set; }
}
