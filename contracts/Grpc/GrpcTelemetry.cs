using System.Diagnostics;
using Grpc.Core;

namespace Experiments.Contracts.Grpc;

/// <summary>
/// Tracing for client and server calls. Add <see cref="ActivitySourceName"/> to the OpenTelemetry tracer
/// (<c>tracing.AddSource(GrpcTelemetry.ActivitySourceName)</c>). Tags follow the RPC semantic conventions.
/// </summary>
public static class GrpcTelemetry
{
    public const string ActivitySourceName = "Experiments.Grpc";

    internal static readonly ActivitySource Source = new(ActivitySourceName);

    internal static Activity? StartClient(IMethod method, Uri target) =>
        Start(method, ActivityKind.Client, target);

    internal static Activity? StartServer(IMethod method) => Start(method, ActivityKind.Server, null);

    internal static void Stop(Activity? activity, StatusCode code, bool isServer)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("rpc.grpc.status_code", (int)code);
        if (IsError(code, isServer))
        {
            activity.SetStatus(ActivityStatusCode.Error, code.ToString());
        }

        activity.Dispose();
    }

    private static Activity? Start(IMethod method, ActivityKind kind, Uri? target)
    {
        var activity = Source.StartActivity($"{method.ServiceName}/{method.Name}", kind);
        if (activity is null)
        {
            return null;
        }

        activity.SetTag("rpc.system", "grpc");
        activity.SetTag("rpc.service", method.ServiceName);
        activity.SetTag("rpc.method", method.Name);
        if (target is not null)
        {
            activity.SetTag("server.address", target.Host);
            activity.SetTag("server.port", target.Port);
        }

        return activity;
    }

    /// <summary>Server spans mark only codes that mean the server failed; client spans mark every non-OK code.</summary>
    private static bool IsError(StatusCode code, bool isServer) => isServer
        ? code is StatusCode.Unknown or StatusCode.DeadlineExceeded or StatusCode.Unimplemented
            or StatusCode.Internal or StatusCode.Unavailable or StatusCode.DataLoss
        : code != StatusCode.OK;
}
