namespace Experiments.Gateway.Console.Services;

/// <summary>Sends a visitor without a valid session cookie to the sign-in page, remembering where they were going.</summary>
public sealed class ConsoleSignInMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, ConsoleSession session)
    {
        var path = context.Request.Path;
        if (session.Current is null
            && !path.StartsWithSegments($"{ConsoleExtensions.BasePath}/sign-in")
            && !path.StartsWithSegments($"{ConsoleExtensions.BasePath}/sign-out"))
        {
            var returnUrl = Uri.EscapeDataString(path + context.Request.QueryString);
            context.Response.Redirect($"{ConsoleExtensions.BasePath}/sign-in?returnUrl={returnUrl}");
            return;
        }
        await next(context);
    }
}
