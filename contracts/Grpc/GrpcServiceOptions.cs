namespace Experiments.Contracts.Grpc;

/// <summary>Server settings; property names follow Grpc.AspNetCore's <c>GrpcServiceOptions</c>.</summary>
public sealed class GrpcServiceOptions
{
    /// <summary>Largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED. Null: no limit.</summary>
    public int? MaxReceiveMessageSize { get; set; } = GrpcProtocol.DefaultMaxReceiveMessageSize;

    /// <summary>Largest response message sent; larger ones fail with RESOURCE_EXHAUSTED. Null: no limit.</summary>
    public int? MaxSendMessageSize { get; set; }

    /// <summary>Whether an unexpected exception's type and message go to the client (never in production).</summary>
    public bool EnableDetailedErrors { get; set; }
}
