using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Experiments.Contracts.Grpc;

/// <summary>UNIMPLEMENTED answers for methods and services nobody mapped.</summary>
internal static class GrpcUnimplemented
{
    public const string MethodMessage = "Method is unimplemented.";
    public const string ServiceMessage = "Service is unimplemented.";

    public static Task RespondAsync(HttpContext httpContext, string message)
    {
        if (!GrpcServerRequest.TryAccept(httpContext))
        {
            return Task.CompletedTask;
        }

        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.ContentType;
        response.Headers[GrpcProtocol.StatusHeader] = ((int)StatusCode.Unimplemented).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers[GrpcProtocol.MessageHeader] = GrpcStatusMessage.Encode(message);
        return Task.CompletedTask;
    }

    /// <summary>Matches only POSTs with a gRPC content-type, so the catch-all route never takes other traffic.</summary>
    internal sealed class GrpcRequestConstraint : IRouteConstraint
    {
        public bool Match(HttpContext? httpContext, IRouter? route, string routeKey, RouteValueDictionary values, RouteDirection routeDirection) =>
            routeDirection == RouteDirection.IncomingRequest
            && httpContext is not null
            && HttpMethods.IsPost(httpContext.Request.Method)
            && GrpcProtocol.IsGrpcContentType(httpContext.Request.ContentType);
    }
}
