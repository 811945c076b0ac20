using Microsoft.AspNetCore.DataProtection;

namespace Experiments.Gateway.Console.Services;

/// <summary>
/// The signed-in admin: project and admin key, kept in an HttpOnly, SameSite=Strict cookie whose value is
/// encrypted with ASP.NET Core data protection (the key never reaches the page's scripts).
/// </summary>
public sealed class ConsoleSession(IHttpContextAccessor accessor, IDataProtectionProvider protection)
{
    public const string CookieName = "experiments_console";

    private readonly IDataProtector _protector = protection.CreateProtector("Experiments.Gateway.Console.Session.v1");
    private Credentials? _current;
    private bool _read;

    public sealed record Credentials(string ProjectId, string AdminKey);

    private HttpContext Http => accessor.HttpContext ?? throw new InvalidOperationException("The console session needs a request.");

    /// <summary>The signed-in admin, or null when the cookie is missing, expired or unreadable.</summary>
    public Credentials? Current
    {
        get
        {
            if (!_read)
            {
                _read = true;
                _current = Read(Http.Request.Cookies[CookieName]);
            }
            return _current;
        }
    }

    public string ProjectId => Current?.ProjectId ?? throw new InvalidOperationException("Not signed in.");

    public void SignIn(string projectId, string adminKey)
    {
        var value = _protector.Protect($"{projectId}\n{adminKey}");
        Http.Response.Cookies.Append(CookieName, value, Options());
        _current = new Credentials(projectId, adminKey);
        _read = true;
    }

    public void SignOut()
    {
        Http.Response.Cookies.Delete(CookieName, Options());
        _current = null;
        _read = true;
    }

    private CookieOptions Options() => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = Http.Request.IsHttps,
        Path = ConsoleExtensions.BasePath,
        IsEssential = true,
        MaxAge = TimeSpan.FromHours(12),
    };

    private Credentials? Read(string? cookie)
    {
        if (string.IsNullOrEmpty(cookie))
        {
            return null;
        }
        try
        {
            var parts = _protector.Unprotect(cookie).Split('\n', 2);
            return parts.Length == 2 ? new Credentials(parts[0], parts[1]) : null;
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }
}
