using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Experiments.Contracts.Grpc;

/// <summary>Runs one unary method for each request: read the message, call the service, write message and status.</summary>
internal sealed class GrpcUnaryMethodHandler<TRequest, TResponse>(
    Method<TRequest, TResponse> method,
    Func<HttpContext, TRequest, ServerCallContext, Task<TResponse>> invoke,
    GrpcServiceOptions options,
    ILogger logger)
    where TRequest : class
    where TResponse : class
{
    public async Task HandleAsync(HttpContext httpContext)
    {
        if (!GrpcServerRequest.TryAccept(httpContext))
        {
            return;
        }

        var activity = GrpcTelemetry.StartServer(method);
        var status = Status.DefaultSuccess;
        using var call = new GrpcServerCallContext(httpContext, method.FullName, ReadTimeout(httpContext));
        try
        {
            status = await RunAsync(httpContext, call).ConfigureAwait(false);
        }
        finally
        {
            GrpcTelemetry.Stop(activity, status.StatusCode, isServer: true);
        }
    }

    private async Task<Status> RunAsync(HttpContext httpContext, GrpcServerCallContext call)
    {
        Task<TResponse>? handler = null;
        try
        {
            var request = await GrpcServerRequest
                .ReadMessageAsync(httpContext, method.RequestMarshaller, options.MaxReceiveMessageSize, call.CancellationToken)
                .ConfigureAwait(false);

            handler = invoke(httpContext, request, call);
            if (call.DeadlineReached is { } deadline && await Task.WhenAny(handler, deadline).ConfigureAwait(false) != handler)
            {
                // Answer at the deadline, then let the handler (its token now cancelled) run to its end so its scope stays alive.
                var deadlineStatus = new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded");
                await TrySendStatusAsync(call, deadlineStatus).ConfigureAwait(false);
                await ObserveLateHandlerAsync(handler).ConfigureAwait(false);
                return deadlineStatus;
            }

            var response = await handler.ConfigureAwait(false);
            if (call.Status.StatusCode != StatusCode.OK)
            {
                // The handler set a failing status on the context: no message goes with it.
                await TrySendStatusAsync(call, call.Status).ConfigureAwait(false);
                return call.Status;
            }

            var frame = GrpcMessageFrame.Write(method.ResponseMarshaller, response, options.MaxSendMessageSize);
            await call.CompleteWithMessageAsync(frame).ConfigureAwait(false);
            return Status.DefaultSuccess;
        }
        catch (Exception ex)
        {
            var (status, trailers) = ToStatus(ex, call);
            await TrySendStatusAsync(call, status, trailers).ConfigureAwait(false);
            return status;
        }
    }

    private (Status Status, Metadata? Trailers) ToStatus(Exception exception, GrpcServerCallContext call)
    {
        switch (exception)
        {
            case RpcException rpc:
                if (rpc.StatusCode is StatusCode.Internal or StatusCode.ResourceExhausted or StatusCode.Unimplemented)
                {
                    GrpcServerLog.CallFailed(logger, method.FullName, rpc.StatusCode, rpc.Status.Detail);
                }

                return (rpc.Status, rpc.Trailers);
            case OperationCanceledException when call.IsDeadlineExceeded:
                return (new Status(StatusCode.DeadlineExceeded, "Deadline Exceeded"), null);
            case OperationCanceledException or IOException when call.HttpContext.RequestAborted.IsCancellationRequested:
                return (new Status(StatusCode.Cancelled, "The client canceled the call."), null);
            default:
                var unknown = new Status(StatusCode.Unknown, options.EnableDetailedErrors
                    ? $"Exception was thrown by handler. {exception.GetType().Name}: {exception.Message}"
                    : "Exception was thrown by handler.");
                GrpcServerLog.HandlerFailed(logger, exception, method.FullName, unknown.StatusCode);
                return (unknown, null);
        }
    }

    private async Task TrySendStatusAsync(GrpcServerCallContext call, Status status, Metadata? trailers = null)
    {
        try
        {
            await call.CompleteWithStatusAsync(status, trailers).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException || call.HttpContext.RequestAborted.IsCancellationRequested)
        {
            GrpcServerLog.StatusNotSent(logger, ex, method.FullName);
        }
    }

    private async Task ObserveLateHandlerAsync(Task<TResponse> handler)
    {
        try
        {
            await handler.ConfigureAwait(false);
            GrpcServerLog.HandlerEndedAfterDeadline(logger, null, method.FullName);
        }
        catch (Exception ex)
        {
            GrpcServerLog.HandlerEndedAfterDeadline(logger, ex, method.FullName);
        }
    }

    private TimeSpan? ReadTimeout(HttpContext httpContext)
    {
        var value = httpContext.Request.Headers[GrpcProtocol.TimeoutHeader].ToString();
        if (value.Length == 0)
        {
            return null;
        }

        if (GrpcTimeout.TryParse(value, out var timeout))
        {
            return timeout;
        }

        GrpcServerLog.InvalidTimeout(logger, value, method.FullName);
        return null;
    }
}
