using Microsoft.Extensions.Logging;

namespace Experiments.Contracts.Grpc;

internal static partial class GrpcServerLog
{
    [LoggerMessage(1, LogLevel.Error, "Error status code '{StatusCode}' raised: unexpected exception in gRPC method {Method}.")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, string method, global::Grpc.Core.StatusCode statusCode);

    [LoggerMessage(2, LogLevel.Debug, "gRPC method {Method} ended after its deadline had been answered.")]
    public static partial void HandlerEndedAfterDeadline(ILogger logger, Exception? exception, string method);

    [LoggerMessage(3, LogLevel.Debug, "Invalid grpc-timeout header '{Value}' ignored on {Method}.")]
    public static partial void InvalidTimeout(ILogger logger, string? value, string method);

    [LoggerMessage(4, LogLevel.Debug, "Could not send the status of gRPC method {Method}: the request was aborted.")]
    public static partial void StatusNotSent(ILogger logger, Exception exception, string method);

    [LoggerMessage(5, LogLevel.Information, "gRPC call {Method} failed with status {StatusCode}: {Detail}")]
    public static partial void CallFailed(ILogger logger, string method, global::Grpc.Core.StatusCode statusCode, string detail);
}
