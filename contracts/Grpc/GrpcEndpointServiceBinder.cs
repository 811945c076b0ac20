using System.Reflection;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Experiments.Contracts.Grpc;

/// <summary>
/// Receives the methods a generated <c>BindService(ServiceBinderBase, TBase)</c> declares and maps each one to a
/// POST endpoint at <c>/{package.Service}/{Method}</c>. The service instance is resolved per call, so the generated
/// code is bound with a null implementation and each method is found by name on <typeparamref name="TService"/>.
/// </summary>
internal sealed class GrpcEndpointServiceBinder<TService>(
    IEndpointRouteBuilder endpoints, GrpcServiceOptions options, ILogger logger) : ServiceBinderBase
    where TService : class
{
    private static readonly ObjectFactory<TService> CreateService = ActivatorUtilities.CreateFactory<TService>([]);

    public List<IEndpointConventionBuilder> Conventions { get; } = [];

    public HashSet<string> ServiceNames { get; } = new(StringComparer.Ordinal);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
    {
        var invoke = handler is null ? CreateInvoker(method) : (_, request, context) => handler(request, context);
        var methodHandler = new GrpcUnaryMethodHandler<TRequest, TResponse>(method, invoke, options, logger);
        Map(method, methodHandler.HandleAsync);
    }

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
        MapStreaming(method);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
        MapStreaming(method);

    public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
        MapStreaming(method);

    private void MapStreaming(IMethod method) =>
        Map(method, httpContext => GrpcUnimplemented.RespondAsync(httpContext,
            $"Streaming methods are not supported by this server ({method.FullName} is {method.Type})."));

    private void Map(IMethod method, RequestDelegate handler)
    {
        ServiceNames.Add(method.ServiceName);
        var builder = endpoints.Map(method.FullName, handler)
            .WithDisplayName($"gRPC - {method.FullName}")
            .WithMetadata(new GrpcMethodMetadata(typeof(TService), method));
        Conventions.Add(builder);
    }

    /// <summary>An invoker that resolves <typeparamref name="TService"/> from the request's services (or creates one) for each call.</summary>
    private static Func<HttpContext, TRequest, ServerCallContext, Task<TResponse>> CreateInvoker<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        var methodInfo = typeof(TService).GetMethod(
            method.Name, BindingFlags.Public | BindingFlags.Instance, [typeof(TRequest), typeof(ServerCallContext)]);
        if (methodInfo is null || methodInfo.ReturnType != typeof(Task<TResponse>))
        {
            throw new InvalidOperationException(
                $"{typeof(TService)} has no public method 'Task<{typeof(TResponse).Name}> {method.Name}({typeof(TRequest).Name}, ServerCallContext)' for {method.FullName}.");
        }

        var call = methodInfo.CreateDelegate<Func<TService, TRequest, ServerCallContext, Task<TResponse>>>();
        return async (httpContext, request, context) =>
        {
            var services = httpContext.RequestServices;
            var service = services.GetService<TService>();
            if (service is not null)
            {
                return await call(service, request, context).ConfigureAwait(false);
            }

            service = CreateService(services, null);
            try
            {
                return await call(service, request, context).ConfigureAwait(false);
            }
            finally
            {
                switch (service)
                {
                    case IAsyncDisposable asyncDisposable:
                        await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                        break;
                    case IDisposable disposable:
                        disposable.Dispose();
                        break;
                }
            }
        };
    }
}

/// <summary>Endpoint metadata naming the service type and gRPC method an endpoint serves.</summary>
public sealed record GrpcMethodMetadata(Type ServiceType, IMethod Method);
