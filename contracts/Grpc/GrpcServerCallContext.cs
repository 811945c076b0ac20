using System.Net.Sockets;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Experiments.Contracts.Grpc;

/// <summary>
/// The <see cref="ServerCallContext"/> of one call on Kestrel. It owns the call's response: headers, then at most
/// one message, then the status, each written once under a gate so a deadline and the handler cannot interleave.
/// </summary>
internal sealed class GrpcServerCallContext : ServerCallContext, IDisposable
{
    private readonly HttpContext _httpContext;
    private readonly string _method;
    private readonly string _peer;
    private readonly DateTime _deadline;
    private readonly CancellationTokenSource? _deadlineSource;
    private readonly CancellationTokenSource _callSource;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Metadata _requestHeaders;
    private readonly Metadata _responseTrailers = [];
    private AuthContext? _authContext;
    private bool _completed;

    public GrpcServerCallContext(HttpContext httpContext, string method, TimeSpan? timeout)
    {
        _httpContext = httpContext;
        _method = method;
        _peer = FormatPeer(httpContext.Connection);
        _requestHeaders = GrpcMetadata.FromHeaders(httpContext.Request.Headers);

        if (timeout is { } value)
        {
            var now = DateTime.UtcNow;
            _deadline = value < DateTime.MaxValue - now ? now + value : DateTime.MaxValue;
            if (value.TotalMilliseconds < int.MaxValue)
            {
                _deadlineSource = new CancellationTokenSource(value);
                var deadlineReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _deadlineSource.Token.Register(static state => ((TaskCompletionSource)state!).TrySetResult(), deadlineReached);
                DeadlineReached = deadlineReached.Task;
            }
        }
        else
        {
            _deadline = DateTime.MaxValue;
        }

        _callSource = _deadlineSource is null
            ? CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted)
            : CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, _deadlineSource.Token);
    }

    /// <summary>Completes when the deadline passes; null when the call has none.</summary>
    public Task? DeadlineReached { get; }

    public bool IsDeadlineExceeded => _deadlineSource?.IsCancellationRequested == true;

    public HttpContext HttpContext => _httpContext;

    protected override string MethodCore => _method;

    protected override string HostCore => _httpContext.Request.Host.Value ?? string.Empty;

    protected override string PeerCore => _peer;

    protected override DateTime DeadlineCore => _deadline;

    protected override Metadata RequestHeadersCore => _requestHeaders;

    protected override CancellationToken CancellationTokenCore => _callSource.Token;

    protected override Metadata ResponseTrailersCore => _responseTrailers;

    protected override Status StatusCore { get; set; } = Status.DefaultSuccess;

    protected override WriteOptions? WriteOptionsCore { get; set; }

    protected override AuthContext AuthContextCore => _authContext ??= new AuthContext(null, []);

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        throw new NotSupportedException("Context propagation tokens are not supported; pass context.Deadline and context.CancellationToken in CallOptions.");

    protected override async Task WriteResponseHeadersAsyncCore(Metadata responseHeaders)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                throw new InvalidOperationException("Response headers cannot be written after the call has completed.");
            }

            var response = _httpContext.Response;
            if (response.HasStarted)
            {
                throw new InvalidOperationException("Response headers can only be sent once per call.");
            }

            PrepareResponse(response);
            GrpcMetadata.AddTo(responseHeaders, response.Headers);
            await response.BodyWriter.FlushAsync(CancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends one message and the status in trailers. Returns false if the call had already completed.</summary>
    public async Task<bool> CompleteWithMessageAsync(ReadOnlyMemory<byte> frame)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                return false;
            }

            _completed = true;
            var response = _httpContext.Response;
            if (!response.HasStarted)
            {
                PrepareResponse(response);
            }

            await response.BodyWriter.WriteAsync(frame, _httpContext.RequestAborted).ConfigureAwait(false);
            WriteStatus(response, Status.DefaultSuccess, trailersOnly: false);
            await response.CompleteAsync().ConfigureAwait(false);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Sends the status without a message: trailers-only (status in the headers) when nothing was sent yet,
    /// otherwise in trailers. Returns false if the call had already completed.
    /// </summary>
    public async Task<bool> CompleteWithStatusAsync(Status status, Metadata? extraTrailers = null)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_completed)
            {
                return false;
            }

            _completed = true;
            if (extraTrailers is not null)
            {
                foreach (var entry in extraTrailers)
                {
                    _responseTrailers.Add(entry);
                }
            }

            var response = _httpContext.Response;
            var trailersOnly = !response.HasStarted;
            if (trailersOnly)
            {
                PrepareResponse(response);
            }

            WriteStatus(response, status, trailersOnly);
            await response.CompleteAsync().ConfigureAwait(false);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _callSource.Dispose();
        _deadlineSource?.Dispose();
    }

    private void WriteStatus(HttpResponse response, Status status, bool trailersOnly)
    {
        var code = ((int)status.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var message = GrpcStatusMessage.Encode(status.Detail);
        if (trailersOnly)
        {
            response.Headers[GrpcProtocol.StatusHeader] = code;
            if (message.Length > 0)
            {
                response.Headers[GrpcProtocol.MessageHeader] = message;
            }

            GrpcMetadata.AddTo(_responseTrailers, response.Headers);
            return;
        }

        response.AppendTrailer(GrpcProtocol.StatusHeader, code);
        if (message.Length > 0)
        {
            response.AppendTrailer(GrpcProtocol.MessageHeader, message);
        }

        foreach (var entry in _responseTrailers)
        {
            if (!GrpcProtocol.IsReservedHeader(entry.Key))
            {
                response.AppendTrailer(entry.Key, GrpcMetadata.ToHeaderValue(entry));
            }
        }
    }

    private static void PrepareResponse(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
    }

    private static string FormatPeer(ConnectionInfo connection)
    {
        if (connection.RemoteIpAddress is not { } address)
        {
            return "unknown";
        }

        return address.AddressFamily == AddressFamily.InterNetworkV6
            ? $"ipv6:[{address}]:{connection.RemotePort}"
            : $"ipv4:{address}:{connection.RemotePort}";
    }
}

public static class GrpcServerCallContextExtensions
{
    /// <summary>The HttpContext behind a call, as Grpc.AspNetCore's <c>context.GetHttpContext()</c>.</summary>
    public static HttpContext GetHttpContext(this ServerCallContext context) =>
        context is GrpcServerCallContext call
            ? call.HttpContext
            : throw new InvalidOperationException("This ServerCallContext does not come from the Kestrel gRPC layer.");
}
