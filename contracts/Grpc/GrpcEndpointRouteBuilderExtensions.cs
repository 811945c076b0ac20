using System.Reflection;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Experiments.Contracts.Grpc;

public static class GrpcEndpointRouteBuilderExtensions
{
    private static readonly ConditionalWeakTable<IEndpointRouteBuilder, HashSet<string>> MappedServices = [];

    /// <summary>
    /// Maps every unary method of a generated service to an endpoint, as Grpc.AspNetCore's
    /// <c>app.MapGrpcService&lt;TService&gt;()</c>. <typeparamref name="TService"/> derives from the generated
    /// <c>Foo.FooBase</c>; it is resolved from DI per call, or created per call when not registered.
    /// Unknown methods of the service, and unknown services, answer UNIMPLEMENTED.
    /// </summary>
    public static IEndpointConventionBuilder MapGrpcService<TService>(this IEndpointRouteBuilder endpoints)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var (bindMethod, baseType) = FindBindMethod(typeof(TService));
        var services = endpoints.ServiceProvider;
        var options = services.GetService<IOptions<GrpcServiceOptions>>()?.Value ?? new GrpcServiceOptions();
        var logger = services.GetService<ILoggerFactory>()?.CreateLogger("Experiments.Contracts.Grpc.Server")
            ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        var binder = new GrpcEndpointServiceBinder<TService>(endpoints, options, logger);
        bindMethod.Invoke(null, [binder, null]);
        if (binder.Conventions.Count == 0)
        {
            throw new InvalidOperationException($"{baseType} declares no methods.");
        }

        MapUnimplemented(endpoints, binder);
        return new CompositeConventionBuilder(binder.Conventions);
    }

    /// <summary>The generated base class carries [BindServiceMethod(typeof(Foo), "BindService")].</summary>
    private static (MethodInfo BindMethod, Type BaseType) FindBindMethod(Type serviceType)
    {
        for (var type = serviceType; type is not null && type != typeof(object); type = type.BaseType)
        {
            if (type.GetCustomAttribute<BindServiceMethodAttribute>(inherit: false) is not { } attribute)
            {
                continue;
            }

            var method = attribute.BindType.GetMethod(
                attribute.BindMethodName,
                BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static,
                [typeof(ServiceBinderBase), type]);
            return method is not null
                ? (method, type)
                : throw new InvalidOperationException($"{attribute.BindType}.{attribute.BindMethodName}(ServiceBinderBase, {type.Name}) was not found.");
        }

        throw new InvalidOperationException(
            $"{serviceType} does not derive from a generated gRPC service base class (one marked [BindServiceMethod]).");
    }

    private static void MapUnimplemented<TService>(IEndpointRouteBuilder endpoints, GrpcEndpointServiceBinder<TService> binder)
        where TService : class
    {
        var mapped = MappedServices.GetValue(endpoints, _ => new HashSet<string>(StringComparer.Ordinal));
        lock (mapped)
        {
            if (mapped.Count == 0)
            {
                var pattern = RoutePatternFactory.Parse(
                    "/{unimplementedService}/{unimplementedMethod}",
                    defaults: null,
                    parameterPolicies: new RouteValueDictionary { ["unimplementedService"] = new GrpcUnimplemented.GrpcRequestConstraint() });
                endpoints.Map(pattern, httpContext => GrpcUnimplemented.RespondAsync(httpContext, GrpcUnimplemented.ServiceMessage))
                    .WithDisplayName("gRPC - unimplemented service");
            }

            foreach (var serviceName in binder.ServiceNames)
            {
                if (mapped.Add(serviceName))
                {
                    endpoints.Map($"/{serviceName}/{{unimplementedMethod}}", httpContext => GrpcUnimplemented.RespondAsync(httpContext, GrpcUnimplemented.MethodMessage))
                        .WithDisplayName($"gRPC - unimplemented method of {serviceName}");
                }
            }
        }
    }

    private sealed class CompositeConventionBuilder(IReadOnlyList<IEndpointConventionBuilder> builders) : IEndpointConventionBuilder
    {
        public void Add(Action<EndpointBuilder> convention)
        {
            foreach (var builder in builders)
            {
                builder.Add(convention);
            }
        }

        public void Finally(Action<EndpointBuilder> finallyConvention)
        {
            foreach (var builder in builders)
            {
                builder.Finally(finallyConvention);
            }
        }
    }
}
