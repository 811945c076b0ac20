using Experiments.Assignment.Evaluation;
using Experiments.Postgres.Configuration;

namespace Experiments.Assignment.Apis;

public sealed record EvaluateRequest(string? UserId, string? DeviceId, Dictionary<string, string>? UserProperties, string[]? FlagKeys);

public sealed record EvaluatedVariant(string Key, string Value, string? Payload, Guid ExperimentId);

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

        var assigned = evaluator.Evaluate(projectId!, new EvaluationUser(request.UserId, request.DeviceId, request.UserProperties), request.FlagKeys);
        return TypedResults.Ok(new EvaluateResponse(assigned.ToDictionary(
            a => a.FlagKey, a => new EvaluatedVariant(a.Key, a.Key, a.PayloadJson, a.ExperimentId))));
    }
}
