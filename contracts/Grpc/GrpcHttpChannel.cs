using Grpc.Core;
using Microsoft.Extensions.Configuration;

namespace Experiments.Contracts.Grpc;

/// <summary>
/// A channel to one target: owns one HttpClient over one SocketsHttpHandler (HTTP/2, several connections when
/// streams run out) and hands out a <see cref="GrpcHttpCallInvoker"/>. Shaped like Grpc.Net.Client's
/// <c>GrpcChannel</c>: <c>new Echo.EchoClient(GrpcHttpChannel.ForAddress("http://127.0.0.1:5091"))</c>.
/// Create one per target and keep it for the process's life.
/// </summary>
public sealed class GrpcHttpChannel : ChannelBase, IDisposable
{
    private readonly HttpClient _httpClient;
    private readonly bool _disposeHttpClient;
    private readonly GrpcHttpCallInvoker _invoker;

    private GrpcHttpChannel(Uri address, GrpcHttpChannelOptions options)
        : base(address.Authority)
    {
        if (options.HttpClient is { } httpClient)
        {
            _httpClient = httpClient;
            _disposeHttpClient = options.DisposeHttpClient;
        }
        else
        {
            _httpClient = new HttpClient(options.HttpHandler ?? CreateDefaultHandler(), disposeHandler: true)
            {
                Timeout = Timeout.InfiniteTimeSpan,
            };
            _disposeHttpClient = true;
        }

        Address = address;
        _invoker = new GrpcHttpCallInvoker(_httpClient, address, options);
    }

    public Uri Address { get; }

    public static GrpcHttpChannel ForAddress(string address, GrpcHttpChannelOptions? options = null) =>
        ForAddress(new Uri(address, UriKind.Absolute), options);

    public static GrpcHttpChannel ForAddress(Uri address, GrpcHttpChannelOptions? options = null) =>
        new(address, options ?? new GrpcHttpChannelOptions());

    /// <summary>
    /// A channel to a service named in configuration the way Aspire passes endpoints:
    /// <c>services__{service}__{endpoint}__0</c> (for example <c>services__assignment__grpc__0</c>).
    /// </summary>
    public static GrpcHttpChannel ForService(IConfiguration configuration, string serviceName, string endpointName = "grpc", GrpcHttpChannelOptions? options = null) =>
        ForAddress(ResolveAddress(configuration, serviceName, endpointName), options);

    public static Uri ResolveAddress(IConfiguration configuration, string serviceName, string endpointName = "grpc")
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var key = $"services:{serviceName}:{endpointName}:0";
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value, UriKind.Absolute, out var address))
        {
            throw new InvalidOperationException(
                $"No address for the gRPC endpoint of '{serviceName}': set '{key}' (environment variable services__{serviceName}__{endpointName}__0) to an absolute http:// or https:// URI.");
        }

        return address;
    }

    /// <summary>The handler a channel uses unless given one: HTTP/2 keep-alive pings and extra connections when one is full.</summary>
    public static SocketsHttpHandler CreateDefaultHandler() => new()
    {
        EnableMultipleHttp2Connections = true,
        PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        KeepAlivePingDelay = TimeSpan.FromSeconds(60),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    };

    public override CallInvoker CreateCallInvoker() => _invoker;

    public void Dispose()
    {
        if (_disposeHttpClient)
        {
            _httpClient.Dispose();
        }
    }

    protected override Task ShutdownAsyncCore()
    {
        Dispose();
        return Task.CompletedTask;
    }
}
