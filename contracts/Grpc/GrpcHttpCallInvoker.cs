using System.Collections.Concurrent;
using Grpc.Core;

namespace Experiments.Contracts.Grpc;

/// <summary>
/// A <see cref="CallInvoker"/> that sends unary calls as gRPC over HTTP/2 through an <see cref="HttpClient"/>.
/// Generated clients take it as is: <c>new Echo.EchoClient(invoker)</c>. Streaming calls fail with UNIMPLEMENTED.
/// </summary>
public sealed class GrpcHttpCallInvoker : CallInvoker
{
    private readonly ConcurrentDictionary<string, Uri> _methodUris = new(StringComparer.Ordinal);
    private readonly string _baseAddress;

    public GrpcHttpCallInvoker(HttpClient httpClient, GrpcHttpChannelOptions? options = null)
        : this(httpClient, httpClient.BaseAddress ?? throw new ArgumentException("The HttpClient has no BaseAddress; pass the address.", nameof(httpClient)), options)
    {
    }

    public GrpcHttpCallInvoker(HttpClient httpClient, Uri address, GrpcHttpChannelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(address);
        if (!address.IsAbsoluteUri || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The address must be an absolute http or https URI: '{address}'.", nameof(address));
        }

        HttpClient = httpClient;
        Address = address;
        MaxReceiveMessageSize = options is null ? GrpcProtocol.DefaultMaxReceiveMessageSize : options.MaxReceiveMessageSize;
        MaxSendMessageSize = options?.MaxSendMessageSize;
        _baseAddress = address.GetLeftPart(UriPartial.Path).TrimEnd('/');
    }

    public Uri Address { get; }

    internal HttpClient HttpClient { get; }

    internal int? MaxReceiveMessageSize { get; }

    internal int? MaxSendMessageSize { get; }

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.Type != MethodType.Unary)
        {
            throw StreamingUnsupported(method);
        }

        if (options.Credentials is not null)
        {
            throw new NotSupportedException("CallCredentials are not supported by GrpcHttpCallInvoker; pass credentials as request metadata.");
        }

        return new GrpcUnaryClientCall<TRequest, TResponse>(this, method, options).Start(request);
    }

    public override TResponse BlockingUnaryCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request)
    {
        using var call = AsyncUnaryCall(method, host, options, request);
        return call.ResponseAsync.GetAwaiter().GetResult();
    }

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options, TRequest request) =>
        throw StreamingUnsupported(method);

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        throw StreamingUnsupported(method);

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        Method<TRequest, TResponse> method, string? host, CallOptions options) =>
        throw StreamingUnsupported(method);

    internal Uri GetMethodUri(IMethod method) =>
        _methodUris.GetOrAdd(method.FullName, static (fullName, baseAddress) => new Uri(baseAddress + fullName), _baseAddress);

    private static RpcException StreamingUnsupported(IMethod method) =>
        new(new Status(StatusCode.Unimplemented, $"Streaming calls are not supported by this client ({method.FullName} is {method.Type})."));
}
