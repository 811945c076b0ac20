using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Experiments.ServiceDefaults.Errors;

/// <summary>
/// Turns the framework's <see cref="BadHttpRequestException"/> (unreadable JSON, wrong types,
/// missing required body) into a 400 problem that names the JSON path at fault.
/// </summary>
public sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }

        var problem = new ProblemDetails
        {
            Status = bad.StatusCode,
            Title = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "Malformed request",
            Detail = bad.Message,
        };
        if (bad.Message.Contains("no body was provided", StringComparison.Ordinal))
        {
            problem.Detail = "A JSON request body is required.";
            problem.Extensions["errors"] = new Dictionary<string, string[]> { ["body"] = [problem.Detail] };
        }
        else if (bad.InnerException is JsonException json)
        {
            var field = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? "body" : json.Path.TrimStart('$', '.');
            problem.Detail = $"The request body is not valid JSON for this endpoint at '{field}'.";
            problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [FirstLine(json.Message)] };
        }

        httpContext.Response.StatusCode = bad.StatusCode;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOf(" Path:", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }
}
