using System.Buffers;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using Grpc.Core;

namespace Experiments.Contracts.Grpc;

/// <summary>One unary call from the client: request, response headers, one message, trailers.</summary>
internal sealed class GrpcUnaryClientCall<TRequest, TResponse>(
    GrpcHttpCallInvoker invoker, Method<TRequest, TResponse> method, CallOptions options)
{
    private static readonly MediaTypeHeaderValue GrpcContentType = new(GrpcProtocol.ContentType);
    private static readonly ProductInfoHeaderValue UserAgent = new("grpc-csharp-experiments", "1.0");

    private readonly TaskCompletionSource<Metadata> _responseHeaders = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _cancellation = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken);
    private readonly Lock _lock = new();
    private Status? _status;
    private Metadata? _trailers;
    private bool _finished;
    private bool _disposed;

    public AsyncUnaryCall<TResponse> Start(TRequest request)
    {
        // Nobody has to observe the headers task; keep a failed one from surfacing as unobserved.
        _ = _responseHeaders.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        var response = RunAsync(request);
        return new AsyncUnaryCall<TResponse>(response, _responseHeaders.Task, GetStatus, GetTrailers, Dispose);
    }

    private async Task<TResponse> RunAsync(TRequest request)
    {
        var activity = GrpcTelemetry.StartClient(method, invoker.Address);
        try
        {
            var response = await SendAndReceiveAsync(request).ConfigureAwait(false);
            Complete(Status.DefaultSuccess, _trailers ?? []);
            return response;
        }
        catch (RpcException ex)
        {
            Complete(ex.Status, ex.Trailers);
            throw;
        }
        catch (Exception ex)
        {
            var status = new Status(StatusCode.Internal, $"Error in gRPC call: {ex.GetType().Name}: {ex.Message}", ex);
            Complete(status, []);
            throw new RpcException(status);
        }
        finally
        {
            GrpcTelemetry.Stop(activity, _status?.StatusCode ?? StatusCode.Unknown, isServer: false);
            lock (_lock)
            {
                _finished = true;
                _cancellation.Dispose();
            }
        }
    }

    private async Task<TResponse> SendAndReceiveAsync(TRequest request)
    {
        TimeSpan? timeout = null;
        if (options.Deadline is { } deadline && deadline != DateTime.MaxValue)
        {
            var remaining = ToUtc(deadline) - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                throw new RpcException(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"));
            }

            timeout = remaining;
            if (remaining.TotalMilliseconds < int.MaxValue)
            {
                _cancellation.CancelAfter(remaining);
            }
        }

        var cancellationToken = _cancellation.Token;
        try
        {
            using var httpRequest = CreateRequest(request, timeout);
            using var httpResponse = await invoker.HttpClient
                .SendAsync(httpRequest, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                .ConfigureAwait(false);
            return await ReadResponseAsync(httpResponse, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not RpcException && (ex is OperationCanceledException || cancellationToken.IsCancellationRequested))
        {
            throw CanceledException(ex);
        }
        catch (HttpRequestException ex)
        {
            throw TransportException(ex, "Error starting gRPC call");
        }
        catch (IOException ex)
        {
            throw TransportException(ex, "Error reading gRPC response");
        }
    }

    private HttpRequestMessage CreateRequest(TRequest request, TimeSpan? timeout)
    {
        var frame = GrpcMessageFrame.Write(method.RequestMarshaller, request, invoker.MaxSendMessageSize);
        var httpRequest = new HttpRequestMessage(HttpMethod.Post, invoker.GetMethodUri(method))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ReadOnlyMemoryContent(frame),
        };
        httpRequest.Content.Headers.ContentType = GrpcContentType;
        var headers = httpRequest.Headers;
        headers.TryAddWithoutValidation(GrpcProtocol.TeHeader, GrpcProtocol.TeTrailers);
        headers.UserAgent.Add(UserAgent);
        if (timeout is { } value)
        {
            headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcTimeout.Encode(value));
        }

        GrpcMetadata.AddTo(options.Headers, headers);
        return httpRequest;
    }

    private async Task<TResponse> ReadResponseAsync(HttpResponseMessage httpResponse, CancellationToken cancellationToken)
    {
        var headers = GrpcMetadata.FromHeaders(httpResponse.Headers);

        // Trailers-only: the status arrives in the headers and there is no body.
        if (TryReadStatus(httpResponse.Headers, out var headerStatus))
        {
            _responseHeaders.TrySetResult(headers);
            _trailers = headers;
            throw headerStatus.StatusCode == StatusCode.OK
                ? new RpcException(new Status(StatusCode.Internal, "Failed to deserialize response message: the server sent no message."), headers)
                : new RpcException(headerStatus, headers);
        }

        if (httpResponse.StatusCode != HttpStatusCode.OK)
        {
            _responseHeaders.TrySetResult(headers);
            throw new RpcException(new Status(
                GrpcStatusMapping.FromHttpStatus(httpResponse.StatusCode),
                $"Bad gRPC response. HTTP status code: {(int)httpResponse.StatusCode}"), headers);
        }

        var contentType = httpResponse.Content.Headers.ContentType?.ToString();
        if (!GrpcProtocol.IsGrpcContentType(contentType))
        {
            _responseHeaders.TrySetResult(headers);
            throw new RpcException(new Status(StatusCode.Internal, $"Bad gRPC response. Invalid content-type value: {contentType}"), headers);
        }

        _responseHeaders.TrySetResult(headers);

        var stream = await httpResponse.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var payload = await ReadMessageAsync(stream, httpResponse, cancellationToken).ConfigureAwait(false);
            try
            {
                var trailers = GrpcMetadata.FromHeaders(httpResponse.TrailingHeaders);
                _trailers = trailers;
                if (!TryReadStatus(httpResponse.TrailingHeaders, out var status))
                {
                    throw new RpcException(new Status(StatusCode.Internal, "Bad gRPC response. No grpc-status found on response."), trailers);
                }

                if (status.StatusCode != StatusCode.OK)
                {
                    throw new RpcException(status, trailers);
                }

                if (payload is null)
                {
                    throw new RpcException(new Status(StatusCode.Internal, "Failed to deserialize response message: the server sent no message."), trailers);
                }

                return Deserialize(payload.Value.Buffer, payload.Value.Length);
            }
            finally
            {
                if (payload is { } rented)
                {
                    ArrayPool<byte>.Shared.Return(rented.Buffer);
                }
            }
        }
    }

    /// <summary>Reads the single length-prefixed message of a unary response, or null when the body is empty.</summary>
    private async Task<(byte[] Buffer, int Length)?> ReadMessageAsync(Stream stream, HttpResponseMessage httpResponse, CancellationToken cancellationToken)
    {
        var header = new byte[GrpcProtocol.FrameHeaderSize];
        var read = await stream.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            return null;
        }

        if (read < header.Length)
        {
            throw new RpcException(new Status(StatusCode.Internal, "Incomplete message: the response ended inside a message prefix."));
        }

        GrpcMessageFrame.ReadHeader(new ReadOnlySequence<byte>(header), out var compressed, out var length);
        if (compressed)
        {
            var encoding = httpResponse.Headers.TryGetValues(GrpcProtocol.EncodingHeader, out var values) ? values.FirstOrDefault() : null;
            throw new RpcException(new Status(StatusCode.Internal, encoding is null || encoding == GrpcProtocol.IdentityEncoding
                ? "A compressed message was received without a grpc-encoding that names its compression."
                : $"Compressed messages are not supported by this client (grpc-encoding '{encoding}')."));
        }

        if (length > invoker.MaxReceiveMessageSize || length > Array.MaxLength)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted,
                $"Received message exceeds the maximum configured message size ({length} > {invoker.MaxReceiveMessageSize})."));
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            read = await stream.ReadAtLeastAsync(buffer.AsMemory(0, (int)length), (int)length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read < length)
            {
                throw new RpcException(new Status(StatusCode.Internal, "Incomplete message: the response ended inside a message."));
            }

            var extra = await stream.ReadAsync(header.AsMemory(0, 1), cancellationToken).ConfigureAwait(false);
            if (extra != 0)
            {
                throw new RpcException(new Status(StatusCode.Internal, "A unary response carried more than one message."));
            }

            return (buffer, (int)length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private TResponse Deserialize(byte[] buffer, int length)
    {
        try
        {
            return GrpcMessageFrame.Read(method.ResponseMarshaller, new ReadOnlySequence<byte>(buffer, 0, length));
        }
        catch (Exception ex)
        {
            throw new RpcException(new Status(StatusCode.Internal, "Failed to deserialize response message.", ex), _trailers ?? []);
        }
    }

    private static bool TryReadStatus(HttpHeaders headers, out Status status)
    {
        status = default;
        if (!headers.TryGetValues(GrpcProtocol.StatusHeader, out var values)
            || !GrpcStatusMapping.TryParseStatus(values.FirstOrDefault(), out var code))
        {
            return false;
        }

        var message = headers.TryGetValues(GrpcProtocol.MessageHeader, out var messages) ? messages.FirstOrDefault() : null;
        status = new Status(code, GrpcStatusMessage.Decode(message));
        return true;
    }

    private RpcException CanceledException(Exception ex)
    {
        if (options.CancellationToken.IsCancellationRequested)
        {
            return new RpcException(new Status(StatusCode.Cancelled, "Call canceled by the client.", ex));
        }

        return _disposed
            ? new RpcException(new Status(StatusCode.Cancelled, "gRPC call disposed.", ex))
            : new RpcException(new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded", ex));
    }

    /// <summary>Connection failures are UNAVAILABLE; an HTTP/2 stream reset maps through the spec's RST_STREAM table.</summary>
    private static RpcException TransportException(Exception ex, string what)
    {
        for (var inner = ex; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpProtocolException protocolException)
            {
                var code = GrpcStatusMapping.FromHttp2Error(protocolException.ErrorCode);
                return new RpcException(new Status(code, $"{what}: HTTP/2 error {protocolException.ErrorCode}: {protocolException.Message}", ex));
            }
        }

        return new RpcException(new Status(StatusCode.Unavailable, $"{what}: {ex.GetType().Name}: {ex.Message}", ex));
    }

    private static DateTime ToUtc(DateTime deadline) =>
        deadline.Kind == DateTimeKind.Local ? deadline.ToUniversalTime() : deadline;

    private void Complete(Status status, Metadata trailers)
    {
        _status = status;
        _trailers = trailers;
        _responseHeaders.TrySetException(new RpcException(status, trailers));
    }

    private Status GetStatus() =>
        _status ?? throw new InvalidOperationException("Unable to get the status because the call is not complete.");

    private Metadata GetTrailers() =>
        _trailers is not null && _status is not null
            ? _trailers
            : throw new InvalidOperationException("Can't get the call trailers because the call has not completed successfully.");

    private void Dispose()
    {
        lock (_lock)
        {
            if (!_finished)
            {
                _disposed = true;
                _cancellation.Cancel();
            }
        }
    }
}
