using Experiments.Contracts.Tests.Interop;
using Google.Protobuf;
using Grpc.Core;

namespace Experiments.Contracts.Tests.Support;

/// <summary>The C# side of interop.proto; the node server in interop/server.js behaves the same.</summary>
public sealed class EchoService : Echo.EchoBase
{
    public override async Task<EchoReply> Unary(EchoRequest request, ServerCallContext context)
    {
        var echoHeaders = new Metadata();
        foreach (var entry in context.RequestHeaders)
        {
            if (entry.Key.StartsWith("x-echo-", StringComparison.Ordinal))
            {
                echoHeaders.Add(entry);
            }
            else if (entry.Key.StartsWith("x-trailer-", StringComparison.Ordinal))
            {
                context.ResponseTrailers.Add(entry);
            }
        }

        if (echoHeaders.Count > 0)
        {
            await context.WriteResponseHeadersAsync(echoHeaders);
        }

        if (request.StatusCode != 0)
        {
            throw new RpcException(new Status((StatusCode)request.StatusCode, request.StatusMessage));
        }

        return Reply(request.ResponseSize > 0 ? ByteString.CopyFrom(new byte[request.ResponseSize]) : request.Payload, context);
    }

    public override async Task<EchoReply> Sleep(SleepRequest request, ServerCallContext context)
    {
        await Task.Delay(request.Milliseconds, context.CancellationToken);
        return Reply(ByteString.Empty, context);
    }

    public override Task<EchoReply> Fail(EchoRequest request, ServerCallContext context) =>
        throw new InvalidOperationException("secret internal detail");

    private static EchoReply Reply(ByteString payload, ServerCallContext context)
    {
        var reply = new EchoReply
        {
            Payload = payload,
            DeadlineRemainingMs = context.Deadline == DateTime.MaxValue
                ? -1
                : (long)(context.Deadline - DateTime.UtcNow).TotalMilliseconds,
        };
        foreach (var entry in context.RequestHeaders)
        {
            reply.Metadata.Add(entry.IsBinary
                ? new MetadataEntry { Key = entry.Key, BinaryValue = ByteString.CopyFrom(entry.ValueBytes) }
                : new MetadataEntry { Key = entry.Key, Value = entry.Value });
        }

        return reply;
    }
}
