using System.Security.Claims;
using System.Text.Encodings.Web;
using Experiments.Postgres.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Experiments.Gateway.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;admin key&gt;</c>: the key is looked up (hashed) among the projects' admin keys,
/// and the caller becomes that project's admin. SDK keys are refused on admin routes.
/// </summary>
public sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyStore keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminKey";
    public const string ProjectClaim = "project_id";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("Use 'Authorization: Bearer <admin key>'.");
        }

        var owner = await keys.FindAsync(header["Bearer ".Length..], Context.RequestAborted);
        if (owner is null)
        {
            return AuthenticateResult.Fail("The admin key is not valid.");
        }
        if (owner.Kind != ApiKeyKinds.Admin)
        {
            return AuthenticateResult.Fail("An SDK key cannot be used on admin routes.");
        }

        var identity = new ClaimsIdentity(
            [new Claim(ProjectClaim, owner.ProjectId), new Claim(ClaimTypes.Name, $"admin-key:{owner.ProjectId}")], SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        var problems = Context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = result.Failure?.Message ?? "An admin key is required: 'Authorization: Bearer <admin key>'.",
            },
        });
    }
}

public static class AdminPrincipalExtensions
{
    public static string ProjectId(this ClaimsPrincipal user)
        => user.FindFirstValue(AdminKeyAuthenticationHandler.ProjectClaim) ?? throw new InvalidOperationException("Not an admin principal.");

    public static string Actor(this ClaimsPrincipal user) => user.Identity?.Name ?? "unknown";
}
