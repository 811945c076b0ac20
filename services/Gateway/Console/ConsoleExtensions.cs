using Experiments.Gateway.Console.Components;
using Experiments.Gateway.Console.Services;

namespace Experiments.Gateway.Console;

/// <summary>
/// The admin console under <c>/console</c>: Razor components rendered on the server (static SSR, forms with antiforgery),
/// calling the gateway's own public admin API over HTTP with the signed-in admin key.
/// </summary>
public static class ConsoleExtensions
{
    public const string BasePath = "/console";

    public static void AddAdminConsole(this WebApplicationBuilder builder)
    {
        // The launcher runs the gateway from its build output in every environment: serve wwwroot through the static web
        // assets manifest (as Development does by default), so styles, scripts and the vendored Chart.js are always there.
        builder.WebHost.UseStaticWebAssets();
        builder.Services.AddRazorComponents();
        builder.Services.AddAntiforgery();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddDataProtection();
        builder.Services.AddSingleton<GatewayAddress>();
        builder.Services.AddScoped<ConsoleSession>();
        builder.Services.AddScoped<ExperimentResults>();
        builder.Services.AddHttpClient<AdminApiClient>((sp, http) =>
        {
            http.BaseAddress = sp.GetRequiredService<GatewayAddress>().Resolve();
        });
    }

    public static WebApplication MapAdminConsole(this WebApplication app)
    {
        app.UseWhen(c => c.Request.Path.StartsWithSegments(BasePath), console => console.UseMiddleware<ConsoleSignInMiddleware>());
        app.MapStaticAssets();
        app.MapRazorComponents<App>();
        app.MapGet(BasePath, () => Results.Redirect($"{BasePath}/experiments")).ExcludeFromDescription();
        app.MapPost($"{BasePath}/sign-out", SignOutAsync).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> SignOutAsync(HttpContext context, Microsoft.AspNetCore.Antiforgery.IAntiforgery antiforgery, ConsoleSession session)
    {
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request",
                detail: "The sign-out form has expired: reload the page and sign out again.");
        }
        session.SignOut();
        return Results.Redirect($"{BasePath}/sign-in");
    }
}
