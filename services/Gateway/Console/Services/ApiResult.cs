using System.Net;

namespace Experiments.Gateway.Console.Services;

/// <summary>Problem details from the admin API: the status, a title, a detail and the messages per field.</summary>
public sealed record ApiProblem(int Status, string Title, string? Detail, IReadOnlyDictionary<string, string[]> Errors)
{
    public static ApiProblem Unreachable(string detail) => new((int)HttpStatusCode.ServiceUnavailable, "The admin API did not answer", detail, Empty);

    public static readonly IReadOnlyDictionary<string, string[]> Empty = new Dictionary<string, string[]>();

    /// <summary>The messages for a field, e.g. <c>name</c> or <c>traffic_weight</c>.</summary>
    public IEnumerable<string> For(string field) => Errors.TryGetValue(field, out var messages) ? messages : [];

    public string Summary => Detail is { Length: > 0 } d ? $"{Title}: {d}" : Title;
}

/// <summary>Either the API's answer or its problem.</summary>
public sealed record ApiResult<T>(T? Value, ApiProblem? Problem)
{
    public bool Ok => Problem is null;
}
