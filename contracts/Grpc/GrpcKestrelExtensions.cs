using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Experiments.Contracts.Grpc;

public static class GrpcKestrelExtensions
{
    /// <summary>
    /// Listens on <paramref name="port"/> for HTTP/2 only, which cleartext gRPC (h2c with prior knowledge) needs:
    /// an Http1AndHttp2 endpoint without TLS speaks only HTTP/1.1. Binds loopback unless given an address.
    /// Pass <paramref name="configure"/> to add TLS (<c>listen =&gt; listen.UseHttps(...)</c>).
    /// </summary>
    public static KestrelServerOptions ListenGrpc(this KestrelServerOptions options, int port, IPAddress? address = null, Action<ListenOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Listen(address ?? IPAddress.Loopback, port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            configure?.Invoke(listen);
        });
        return options;
    }
}
