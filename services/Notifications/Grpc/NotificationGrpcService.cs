using System.Globalization;
using System.Text.Json;
using Experiments.Contracts.Notifications.V1;
using Experiments.Notifications.Deliveries;
using Experiments.Contracts.Messages;
using Experiments.Notifications.Events;
using Grpc.Core;

namespace Experiments.Notifications.Grpc;

/// <summary>The delivery log, test sends and replays for the gateway's admin API.</summary>
public sealed class NotificationGrpcService(
    DeliveryStore store, DeliveryProcessor processor, DeliveryDispatcher dispatcher, DeliverySignal signal, NotificationOptions options, TimeProvider time)
    : NotificationService.NotificationServiceBase
{
    public override async Task<Delivery> SendTest(SendTestRequest request, ServerCallContext context)
    {
        var projectId = RequireProject(request.ProjectId);
        var subscriptionId = RequireGuid(request.SubscriptionId, "subscription_id");
        var now = time.GetUtcNow();
        var e = new NotificationEvent(Guid.CreateVersion7(), NotificationEventTypes.Test, projectId, null, now,
            JsonSerializer.Serialize(new { subscription_id = subscriptionId, message = "A test notification from Experiments." }));
        var work = await store.CreateTestAsync(projectId, subscriptionId, e, dispatcher.Lease, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Subscription {subscriptionId} was not found in project '{projectId}'."));
        await processor.ProcessAsync(work, context.CancellationToken);
        return ToMessage((await store.GetAsync(projectId, work.Id, context.CancellationToken))!);
    }

    public override async Task<ListDeliveriesResponse> ListDeliveries(ListDeliveriesRequest request, ServerCallContext context)
    {
        var projectId = RequireProject(request.ProjectId);
        Guid? subscriptionId = string.IsNullOrEmpty(request.SubscriptionId) ? null : RequireGuid(request.SubscriptionId, "subscription_id");
        var status = string.IsNullOrEmpty(request.Status) ? null : request.Status;
        if (status is not null && !DeliveryStatuses.All.Contains(status))
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"status must be one of {string.Join(", ", DeliveryStatuses.All)}."));
        }
        if (request.Limit is < 0 or > 500)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "limit must be between 1 and 500."));
        }
        var records = await store.ListAsync(projectId, subscriptionId, status, request.Limit == 0 ? 100 : request.Limit, context.CancellationToken);
        var response = new ListDeliveriesResponse();
        response.Deliveries.AddRange(records.Select(ToMessage));
        return response;
    }

    public override async Task<Delivery> ReplayDelivery(ReplayDeliveryRequest request, ServerCallContext context)
    {
        var projectId = RequireProject(request.ProjectId);
        var id = RequireGuid(request.DeliveryId, "delivery_id");
        if (await store.ReplayAsync(projectId, id, options.MaxAttempts, context.CancellationToken) is { } replayed)
        {
            signal.Notify();
            return ToMessage(replayed);
        }
        var existing = await store.GetAsync(projectId, id, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.NotFound, $"Delivery {id} was not found in project '{projectId}'."));
        throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Delivery {id} is {existing.Status}; only failed deliveries can be replayed."));
    }

    private static string RequireProject(string projectId) => string.IsNullOrWhiteSpace(projectId)
        ? throw new RpcException(new Status(StatusCode.InvalidArgument, "project_id is required."))
        : projectId;

    private static Guid RequireGuid(string value, string field) => Guid.TryParse(value, out var id)
        ? id
        : throw new RpcException(new Status(StatusCode.InvalidArgument, $"{field} must be a UUID."));

    private static Delivery ToMessage(DeliveryRecord r) => new()
    {
        Id = r.Id.ToString(),
        SubscriptionId = r.SubscriptionId.ToString(),
        EventId = r.EventId.ToString(),
        EventType = r.EventType,
        ExperimentId = r.ExperimentId?.ToString() ?? "",
        Status = r.Status,
        Attempts = r.Attempts,
        MaxAttempts = r.MaxAttempts,
        LastError = r.LastError ?? "",
        LastStatusCode = r.LastStatusCode ?? 0,
        CreatedAt = Rfc3339(r.CreatedAt),
        UpdatedAt = Rfc3339(r.UpdatedAt),
        NextAttemptAt = r.NextAttemptAt is { } next ? Rfc3339(next) : "",
        DeliveredAt = r.DeliveredAt is { } at ? Rfc3339(at) : "",
    };

    private static string Rfc3339(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
