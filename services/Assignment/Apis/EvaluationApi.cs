using System.Text.Json;
using Experiments.Assignment.Evaluation;
using Experiments.Postgres.Configuration;
using Experiments.Sdk.Evaluation;

namespace Experiments.Assignment.Apis;

public sealed record EvaluateRequest(
    string? UserId,
    string? DeviceId,
    Dictionary<string, JsonElement>? UserProperties,
    string[]? FlagKeys,
    Dictionary<string, string>? Groups = null);

public sealed record EvaluatedVariant(string Key, string Value, JsonElement? Payload, Guid? ExperimentId);

public sealed record EvaluateResponse(IReadOnlyDictionary<string, EvaluatedVariant> Variants);

public static class EvaluationApi
{
    public static RouteGroupBuilder MapEvaluationApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Evaluation");
        api.MapPost("/evaluate", Evaluate).WithName("Evaluate");
        return api;
    }

    private static async Task<IResult> Evaluate(EvaluateRequest request, HttpRequest http, ApiKeyStore keys, Evaluator evaluator, CancellationToken ct)
    {
        var (projectId, problem) = await keys.AuthenticateAsync(http, null, ct);
        if (problem is not null)
        {
            return problem;
        }
        if (string.IsNullOrWhiteSpace(request.UserId) && string.IsNullOrWhiteSpace(request.DeviceId))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["user_id"] = ["'user_id' or 'device_id' is required to bucket the user."],
            });
        }

        var properties = request.UserProperties?
            .Select(p => (p.Key, Value: EvaluationUser.Coerce(p.Value)))
            .Where(p => p.Value is not null)
            .ToDictionary(p => p.Key, p => p.Value!, StringComparer.Ordinal);
        var user = new EvaluationUser(NullIfBlank(request.UserId), NullIfBlank(request.DeviceId), properties, request.Groups);
        var assigned = evaluator.Evaluate(projectId!, user, request.FlagKeys);
        return TypedResults.Ok(new EvaluateResponse(assigned.ToDictionary(
            a => a.FlagKey, a => new EvaluatedVariant(a.Key ?? "", a.Value ?? a.Key ?? "", a.Payload, evaluator.ExperimentIdOf(projectId!, a)))));
    }

    internal static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
