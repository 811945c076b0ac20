using System.Security.Claims;
using Experiments.Contracts.Messages;
using Experiments.Contracts.Notifications.V1;
using Experiments.Gateway.Auth;
using Experiments.Gateway.Data;
using Experiments.Gateway.Model;
using Experiments.Gateway.Validation;
using Grpc.Core;

namespace Experiments.Gateway.Apis;

/// <summary>
/// Notification subscriptions (stored here) and their deliveries (owned by the notifications service, reached over
/// gRPC): <c>/v1/admin/subscriptions...</c>.
/// </summary>
public static class SubscriptionsApi
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private static readonly string[] Kinds = ["slack", "webhook"];

    public static RouteGroupBuilder MapSubscriptionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/admin/subscriptions").RequireAuthorization().WithTags("Subscriptions");
        api.MapPost("/", CreateSubscription).WithName("CreateSubscription");
        api.MapGet("/", ListSubscriptions).WithName("ListSubscriptions");
        api.MapGet("/{id:guid}", GetSubscription).WithName("GetSubscription");
        api.MapPatch("/{id:guid}", UpdateSubscription).WithName("UpdateSubscription");
        api.MapDelete("/{id:guid}", DeleteSubscription).WithName("DeleteSubscription");
        api.MapPost("/{id:guid}/test", SendTest).WithName("TestSubscription");
        api.MapGet("/{id:guid}/deliveries", ListSubscriptionDeliveries).WithName("ListSubscriptionDeliveries");
        api.MapGet("/deliveries", ListDeliveries).WithName("ListDeliveries");
        api.MapPost("/deliveries/{deliveryId:guid}/replay", ReplayDelivery).WithName("ReplayDelivery");
        return api;
    }

    private static async Task<IResult> CreateSubscription(
        CreateSubscriptionRequest request, ClaimsPrincipal user, SubscriptionStore store, IConfiguration configuration, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        var kind = request.Kind?.Trim();
        if (string.IsNullOrEmpty(kind))
        {
            errors.Add("kind", "'kind' is required: 'slack' or 'webhook'.");
        }
        else if (!Kinds.Contains(kind))
        {
            errors.Add("kind", "'kind' must be 'slack' or 'webhook'.");
        }
        var url = errors.RequireText("url", request.Url, 2048);
        if (url is not null && await SubscriptionUrls.ProblemAsync(url, configuration.GetValue<bool>("Notifications:AllowPrivateNetworks"), ct) is { } urlProblem)
        {
            errors.Add("url", urlProblem);
        }
        var secret = request.Secret;
        if (kind == "webhook" && string.IsNullOrEmpty(secret))
        {
            errors.Add("secret", "'secret' is required for webhooks (16-256 characters): requests are signed with it.");
        }
        else if (kind == "webhook" && secret!.Length is < 16 or > 256)
        {
            errors.Add("secret", "'secret' must be 16-256 characters.");
        }
        else if (kind == "slack" && secret is not null)
        {
            errors.Add("secret", "'secret' is for webhooks only; a Slack URL is its own secret.");
        }
        var name = request.Name?.Trim() ?? "";
        if (name.Length > 200)
        {
            errors.Add("name", "'name' must be at most 200 characters.");
        }
        var eventTypes = request.EventTypes?.Select(t => t?.Trim() ?? "").Distinct().ToList();
        if (eventTypes is null || eventTypes.Count == 0)
        {
            errors.Add("event_types", $"'event_types' must name at least one of: {string.Join(", ", NotificationEventTypes.Subscribable)}.");
        }
        else if (eventTypes.FirstOrDefault(t => !NotificationEventTypes.Subscribable.Contains(t)) is { } unknown)
        {
            errors.Add("event_types", $"'{unknown}' is not an event type; use: {string.Join(", ", NotificationEventTypes.Subscribable)}.");
        }
        if (request.ExperimentId == Guid.Empty)
        {
            errors.Add("experiment_id", "'experiment_id' must be an experiment's id.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        if (ExperimentsApi.Forbidden(user, request.ProjectId) is { } forbidden)
        {
            return forbidden;
        }

        var result = await store.CreateAsync(user.ProjectId(), request.ExperimentId, name, kind!, url!, kind == "webhook" ? secret : null,
            eventTypes!, request.Enabled ?? true, user.Actor(), ct);
        if (result.Value is not { } created)
        {
            return errors.Add("experiment_id", result.Detail!).ToProblem();
        }
        return TypedResults.Created($"/v1/admin/subscriptions/{created.Id}", created);
    }

    private static async Task<IResult> ListSubscriptions(string? project_id, Guid? experiment_id, ClaimsPrincipal user, SubscriptionStore store, CancellationToken ct)
        => ExperimentsApi.Forbidden(user, project_id) ?? TypedResults.Ok(await store.ListAsync(user.ProjectId(), experiment_id, ct));

    private static async Task<IResult> GetSubscription(Guid id, ClaimsPrincipal user, SubscriptionStore store, CancellationToken ct)
        => await store.GetAsync(user.ProjectId(), id, ct) is { } subscription ? TypedResults.Ok(subscription) : NotFound(id);

    private static async Task<IResult> UpdateSubscription(
        Guid id, UpdateSubscriptionRequest request, ClaimsPrincipal user, SubscriptionStore store, IConfiguration configuration, CancellationToken ct)
    {
        var current = await store.GetAsync(user.ProjectId(), id, ct);
        if (current is null)
        {
            return NotFound(id);
        }
        var errors = new ValidationErrors();
        var url = request.Url is null ? null : errors.RequireText("url", request.Url, 2048);
        if (url is not null && await SubscriptionUrls.ProblemAsync(url, configuration.GetValue<bool>("Notifications:AllowPrivateNetworks"), ct) is { } urlProblem)
        {
            errors.Add("url", urlProblem);
        }
        if (request.Secret is { } secret && current.Kind != "webhook")
        {
            errors.Add("secret", "'secret' is for webhooks only; a Slack URL is its own secret.");
        }
        else if (request.Secret is { Length: < 16 or > 256 })
        {
            errors.Add("secret", "'secret' must be 16-256 characters.");
        }
        var name = request.Name?.Trim();
        if (name is { Length: > 200 })
        {
            errors.Add("name", "'name' must be at most 200 characters.");
        }
        var eventTypes = request.EventTypes?.Select(t => t?.Trim() ?? "").Distinct().ToList();
        if (eventTypes is { Count: 0 })
        {
            errors.Add("event_types", $"'event_types' must name at least one of: {string.Join(", ", NotificationEventTypes.Subscribable)}.");
        }
        else if (eventTypes?.FirstOrDefault(t => !NotificationEventTypes.Subscribable.Contains(t)) is { } unknown)
        {
            errors.Add("event_types", $"'{unknown}' is not an event type; use: {string.Join(", ", NotificationEventTypes.Subscribable)}.");
        }
        if (request.ExperimentId == Guid.Empty)
        {
            errors.Add("experiment_id", "'experiment_id' must be an experiment's id.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        var result = await store.UpdateAsync(user.ProjectId(), id, name, url, request.Secret, eventTypes, request.ExperimentId, request.Enabled, user.Actor(), ct);
        return result.Value is { } updated
            ? TypedResults.Ok(updated)
            : result.Failure == ChangeFailure.NotFound ? NotFound(id) : errors.Add("experiment_id", result.Detail!).ToProblem();
    }

    private static async Task<IResult> DeleteSubscription(Guid id, ClaimsPrincipal user, SubscriptionStore store, CancellationToken ct)
        => await store.DeleteAsync(user.ProjectId(), id, user.Actor(), ct) ? TypedResults.NoContent() : NotFound(id);

    private static async Task<IResult> SendTest(Guid id, ClaimsPrincipal user, SubscriptionStore store, NotificationService.NotificationServiceClient notifications, CancellationToken ct)
    {
        if (await store.GetAsync(user.ProjectId(), id, ct) is null)
        {
            return NotFound(id);
        }
        return await CallAsync(async () => TypedResults.Ok(ToView(await notifications.SendTestAsync(
            new SendTestRequest { ProjectId = user.ProjectId(), SubscriptionId = id.ToString() }, deadline: DateTime.UtcNow.Add(Deadline), cancellationToken: ct))));
    }

    private static async Task<IResult> ListSubscriptionDeliveries(
        Guid id, string? status, int? limit, ClaimsPrincipal user, SubscriptionStore store, NotificationService.NotificationServiceClient notifications, CancellationToken ct)
    {
        if (await store.GetAsync(user.ProjectId(), id, ct) is null)
        {
            return NotFound(id);
        }
        return await ListAsync(user, id, status, limit, notifications, ct);
    }

    private static Task<IResult> ListDeliveries(string? status, int? limit, ClaimsPrincipal user, NotificationService.NotificationServiceClient notifications, CancellationToken ct)
        => ListAsync(user, null, status, limit, notifications, ct);

    private static Task<IResult> ReplayDelivery(Guid deliveryId, ClaimsPrincipal user, NotificationService.NotificationServiceClient notifications, CancellationToken ct)
        => CallAsync(async () => TypedResults.Ok(ToView(await notifications.ReplayDeliveryAsync(
            new ReplayDeliveryRequest { ProjectId = user.ProjectId(), DeliveryId = deliveryId.ToString() }, deadline: DateTime.UtcNow.Add(Deadline), cancellationToken: ct))));

    private static async Task<IResult> ListAsync(
        ClaimsPrincipal user, Guid? subscriptionId, string? status, int? limit, NotificationService.NotificationServiceClient notifications, CancellationToken ct)
    {
        var errors = new ValidationErrors();
        if (status is not null && status is not ("pending" or "delivering" or "delivered" or "failed"))
        {
            errors.Add("status", "'status' must be pending, delivering, delivered or failed.");
        }
        if (limit is < 1 or > 500)
        {
            errors.Add("limit", "'limit' must be between 1 and 500.");
        }
        if (errors.Any)
        {
            return errors.ToProblem();
        }
        return await CallAsync(async () =>
        {
            var response = await notifications.ListDeliveriesAsync(new ListDeliveriesRequest
            {
                ProjectId = user.ProjectId(),
                SubscriptionId = subscriptionId?.ToString() ?? "",
                Status = status ?? "",
                Limit = limit ?? 100,
            }, deadline: DateTime.UtcNow.Add(Deadline), cancellationToken: ct);
            return TypedResults.Ok(response.Deliveries.Select(ToView).ToList());
        });
    }

    private static async Task<IResult> CallAsync(Func<Task<IResult>> call)
    {
        try
        {
            return await call();
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: ex.Status.Detail);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Not allowed in this status", detail: ex.Status.Detail);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The request is invalid", detail: ex.Status.Detail);
        }
        catch (RpcException ex)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Notifications unavailable",
                detail: $"The notifications service answered {ex.StatusCode}: {ex.Status.Detail}");
        }
    }

    private static IResult NotFound(Guid id) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"Subscription {id} was not found.");

    private static DeliveryView ToView(Delivery d) => new(d.Id, d.SubscriptionId, d.EventId, d.EventType, Empty(d.ExperimentId), d.Status, d.Attempts, d.MaxAttempts,
        Empty(d.LastError), d.LastStatusCode == 0 ? null : d.LastStatusCode, d.CreatedAt, d.UpdatedAt, Empty(d.NextAttemptAt), Empty(d.DeliveredAt));

    private static string? Empty(string value) => value.Length == 0 ? null : value;
}
