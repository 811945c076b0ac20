using System.Buffers;
using System.IO.Pipelines;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Experiments.Contracts.Grpc;

/// <summary>What the server checks of an incoming request, and how it reads the single request message.</summary>
internal static class GrpcServerRequest
{
    /// <summary>
    /// Answers requests that are not gRPC at all with plain HTTP: 405 for non-POST, 415 for a content-type
    /// that is not application/grpc (so no HTTP client mistakes a gRPC error for success), 426 for HTTP/1.x.
    /// </summary>
    public static bool TryAccept(HttpContext httpContext)
    {
        var request = httpContext.Request;
        var response = httpContext.Response;
        if (!HttpMethods.IsPost(request.Method))
        {
            response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            response.Headers.Allow = HttpMethods.Post;
            return false;
        }

        if (!GrpcProtocol.IsGrpcContentType(request.ContentType))
        {
            response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
            response.Headers[GrpcProtocol.StatusHeader] = ((int)StatusCode.Internal).ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.Headers[GrpcProtocol.MessageHeader] = GrpcStatusMessage.Encode($"Content-Type '{request.ContentType}' is not supported.");
            return false;
        }

        if (!HttpProtocol.IsHttp2(request.Protocol) && !HttpProtocol.IsHttp3(request.Protocol))
        {
            response.StatusCode = StatusCodes.Status426UpgradeRequired;
            response.Headers.Upgrade = "h2c";
            response.Headers[GrpcProtocol.StatusHeader] = ((int)StatusCode.Internal).ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.Headers[GrpcProtocol.MessageHeader] = GrpcStatusMessage.Encode($"Request protocol '{request.Protocol}' is not supported: gRPC needs HTTP/2.");
            return false;
        }

        return true;
    }

    /// <summary>Reads exactly one length-prefixed message and the end of the request stream.</summary>
    public static async Task<T> ReadMessageAsync<T>(HttpContext httpContext, Marshaller<T> marshaller, int? maxReceiveMessageSize, CancellationToken cancellationToken)
    {
        var sizeFeature = httpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false })
        {
            // The message size limit is checked on the frame prefix below, and anything after the one message fails
            // the call, so Kestrel's own body limit (checked against content-length, answering 413) stays out of the way.
            sizeFeature.MaxRequestBodySize = null;
        }

        var reader = httpContext.Request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= GrpcProtocol.FrameHeaderSize)
            {
                GrpcMessageFrame.ReadHeader(buffer, out var compressed, out var length);
                if (compressed)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw CompressedMessage(httpContext);
                }

                if (length > maxReceiveMessageSize || length > Array.MaxLength)
                {
                    reader.AdvanceTo(buffer.Start);
                    throw new RpcException(new Status(StatusCode.ResourceExhausted,
                        $"Received message exceeds the maximum configured message size ({length} > {maxReceiveMessageSize})."));
                }

                var frameLength = GrpcProtocol.FrameHeaderSize + (long)length;
                if (buffer.Length >= frameLength)
                {
                    T message;
                    try
                    {
                        message = Deserialize(marshaller, buffer.Slice(GrpcProtocol.FrameHeaderSize, length));
                    }
                    finally
                    {
                        reader.AdvanceTo(buffer.GetPosition(frameLength));
                    }

                    await ReadEndAsync(reader, cancellationToken).ConfigureAwait(false);
                    return message;
                }
            }

            if (result.IsCompleted)
            {
                reader.AdvanceTo(buffer.End);
                throw new RpcException(new Status(StatusCode.Internal, buffer.Length == 0
                    ? "The request carried no message."
                    : "Incomplete message: the request ended inside a message."));
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static async Task ReadEndAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var extra = result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (extra > 0)
            {
                throw new RpcException(new Status(StatusCode.Internal, "Additional data after the message received: a unary request carries one message."));
            }

            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    private static T Deserialize<T>(Marshaller<T> marshaller, ReadOnlySequence<byte> payload)
    {
        try
        {
            return GrpcMessageFrame.Read(marshaller, payload);
        }
        catch (Exception ex)
        {
            throw new RpcException(new Status(StatusCode.Internal, "Failed to deserialize request message.", ex));
        }
    }

    private static RpcException CompressedMessage(HttpContext httpContext)
    {
        var encoding = httpContext.Request.Headers[GrpcProtocol.EncodingHeader].ToString();
        if (encoding.Length == 0 || encoding == GrpcProtocol.IdentityEncoding)
        {
            return new RpcException(new Status(StatusCode.Internal,
                "A compressed message was received without a grpc-encoding that names its compression."));
        }

        // The spec: an unsupported compression is UNIMPLEMENTED, and the server lists what it accepts.
        if (!httpContext.Response.HasStarted)
        {
            httpContext.Response.Headers[GrpcProtocol.AcceptEncodingHeader] = GrpcProtocol.IdentityEncoding;
        }

        return new RpcException(new Status(StatusCode.Unimplemented,
            $"Unsupported grpc-encoding value '{encoding}'. Supported encodings: identity"));
    }
}
