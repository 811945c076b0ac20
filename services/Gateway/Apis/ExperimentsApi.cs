using Experiments.Gateway.Auth;
using Experiments.Gateway.Data;
using Experiments.Gateway.Model;
using Experiments.Gateway.Validation;
using Experiments.Postgres.Configuration;
using Microsoft.AspNetCore.Http.HttpResults;
using System.Security.Claims;

namespace Experiments.Gateway.Apis;

/// <summary>
/// Experiments, variants, launch and stop. Each change's events (ExperimentChanged, ExperimentStarted/Ended) are written
/// to the gateway's outbox in the change's transaction by <see cref="ExperimentStore"/> and published by <see cref="OutboxRelay"/>.
/// </summary>
public static class ExperimentsApi
{
    public static RouteGroupBuilder MapExperimentsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/admin/experiments")
            .RequireAuthorization()
            .WithTags("Experiments");

        api.MapGet("/", ListExperiments).WithName("ListExperiments");
        api.MapLatestResults();
        api.MapPost("/", CreateExperiment).WithName("CreateExperiment");
        api.MapGet("/{id:guid}", GetExperiment).WithName("GetExperiment");
        api.MapPost("/{id:guid}/variants", AddVariant).WithName("AddVariant");
        api.MapPost("/{id:guid}/launch", LaunchExperiment).WithName("LaunchExperiment");
        api.MapPost("/{id:guid}/stop", StopExperiment).WithName("StopExperiment");
        return api;
    }

    private static async Task<IResult> ListExperiments(string? project_id, ClaimsPrincipal user, ExperimentStore store, CancellationToken ct)
    {
        if (Forbidden(user, project_id) is { } forbidden)
        {
            return forbidden;
        }
        return TypedResults.Ok(await store.ListAsync(user.ProjectId(), ct));
    }

    private static async Task<IResult> GetExperiment(Guid id, ClaimsPrincipal user, ExperimentStore store, CancellationToken ct)
        => await store.GetAsync(user.ProjectId(), id, ct) is { } experiment ? TypedResults.Ok(experiment) : NotFound(id);

    private static async Task<IResult> CreateExperiment(
        CreateExperimentRequest request, ClaimsPrincipal user, ExperimentStore store, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var name = errors.RequireText("name", request.Name, 200);
        var projectId = errors.RequireText("project_id", request.ProjectId, 100);
        var hypothesis = request.Hypothesis?.Trim() ?? "";
        if (hypothesis.Length > 2000)
        {
            errors.Add("hypothesis", "'hypothesis' must be at most 2000 characters.");
        }
        var key = request.Key?.Trim();
        if (key is not null && !Slug.IsValid(key))
        {
            errors.Add("key", "'key' must be 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit.");
        }
        else if (key is null && name is not null && Slug.From(name) is var slug)
        {
            if (slug.Length == 0)
            {
                errors.Add("key", "'key' is required when 'name' has no letters or digits to make one from.");
            }
            key = slug;
        }
        if (request.PrimaryMetric is { } metric && string.IsNullOrWhiteSpace(metric.EventType))
        {
            errors.Add("primary_metric.event_type", "'primary_metric.event_type' is required when 'primary_metric' is given.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        if (Forbidden(user, projectId) is { } forbidden)
        {
            return forbidden;
        }

        var result = await store.CreateAsync(projectId!, key!, name!, hypothesis, request.BanditEnabled ?? false,
            request.PrimaryMetric is { } m ? new PrimaryMetric(m.EventType.Trim()) : null, user.Actor(), ct);
        if (result.Value is not { } created)
        {
            return Failure(result);
        }
        return TypedResults.Created($"/v1/admin/experiments/{created.Id}", created);
    }

    private static async Task<IResult> AddVariant(
        Guid id, AddVariantRequest request, ClaimsPrincipal user, ExperimentStore store, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var name = errors.RequireText("name", request.Name, 200);
        if (request.TrafficWeight is not { } weight)
        {
            errors.Add("traffic_weight", "'traffic_weight' is required.");
        }
        else if (!double.IsFinite(weight) || weight <= 0 || weight > 1_000_000)
        {
            errors.Add("traffic_weight", "'traffic_weight' must be a positive number (weights are relative to each other).");
        }
        var key = request.Key?.Trim() ?? (name is null ? null : Slug.From(name));
        if (key is not null && !Slug.IsValid(key))
        {
            errors.Add("key", "'key' must be 1-64 lowercase letters, digits, '-' or '_', starting with a letter or digit.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var result = await store.AddVariantAsync(user.ProjectId(), id, key!, name!, request.TrafficWeight!.Value, user.Actor(), ct);
        if (result.Value is not { } experiment)
        {
            return Failure(result);
        }
        return TypedResults.Created($"/v1/admin/experiments/{experiment.Id}", experiment);
    }

    private static async Task<IResult> LaunchExperiment(
        Guid id, ClaimsPrincipal user, ExperimentStore store, CancellationToken ct)
    {
        var result = await store.TransitionAsync(user.ProjectId(), id, ExperimentStatuses.Draft, ExperimentStatuses.Running, user.Actor(), ct);
        if (result.Value is not { } experiment)
        {
            return Failure(result);
        }
        return TypedResults.Ok(experiment);
    }

    private static async Task<IResult> StopExperiment(
        Guid id, ClaimsPrincipal user, ExperimentStore store, CancellationToken ct)
    {
        var result = await store.TransitionAsync(user.ProjectId(), id, ExperimentStatuses.Running, ExperimentStatuses.Stopped, user.Actor(), ct);
        if (result.Value is not { } experiment)
        {
            return Failure(result);
        }
        return TypedResults.Ok(experiment);
    }

    /// <summary>A key sees only its own project: naming another project is refused.</summary>
    internal static IResult? Forbidden(ClaimsPrincipal user, string? projectId)
        => projectId is null || projectId == user.ProjectId()
            ? null
            : TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: $"This admin key belongs to another project than '{projectId}'.",
                extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["project_id"] = ["The admin key does not belong to this project."] } });

    internal static ProblemHttpResult NotFound(Guid id)
        => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"Experiment {id} was not found.");

    private static IResult Failure<T>(ChangeResult<T> result) => result.Failure switch
    {
        ChangeFailure.NotFound => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: result.Detail),
        ChangeFailure.DuplicateKey => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Duplicate key", detail: result.Detail,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["key"] = [result.Detail!] } }),
        ChangeFailure.WrongStatus => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not allowed in this status", detail: result.Detail),
        ChangeFailure.TooFewVariants => TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not enough variants", detail: result.Detail,
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["variants"] = [result.Detail!] } }),
        _ => throw new InvalidOperationException($"Unexpected failure {result.Failure}."),
    };
}
