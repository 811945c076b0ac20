using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.ServiceDefaults.Errors;

public static class ProblemDetailsExtensions
{
    /// <summary>
    /// Every error leaves as RFC 9457 problem details (with the trace id the framework adds); malformed
    /// request bodies become 400s that name the offending field instead of bare 400s or 500s.
    /// </summary>
    public static IServiceCollection AddProblemDetailsDefaults(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Minimal APIs answer unreadable bodies with a bare 400 unless told to throw; the handler above explains them.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }
}
