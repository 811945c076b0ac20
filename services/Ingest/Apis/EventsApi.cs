using Experiments.Contracts.Messages;
using Experiments.Ingest.Model;
using Experiments.Postgres.Configuration;
using MassTransit;

namespace Experiments.Ingest.Apis;

public static class EventsApi
{
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/events", TrackEvents).WithTags("Events").WithName("TrackEvents");
        app.MapPost("/2/httpapi", TrackAmplitudeEvents).WithTags("Events").WithName("TrackAmplitudeEvents");
        return app;
    }

    /// <summary>Our SDK's format. 200 means the batch is durably queued (the broker confirmed it).</summary>
    private static async Task<IResult> TrackEvents(
        EventBatchRequest request, HttpRequest http, ApiKeyStore keys, EventValidator validator, IPublishEndpoint publisher, TimeProvider time,
        CancellationToken ct)
    {
        var (projectId, problem) = await keys.AuthenticateAsync(http, request.ApiKey, ct);
        if (problem is not null)
        {
            return problem;
        }
        var (events, errors) = validator.Validate(request.Events);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Some events are invalid; none of this batch was stored.");
        }

        await publisher.Publish(new EventBatchReceived(Guid.NewGuid(), projectId!, time.GetUtcNow(), events), ct);
        return TypedResults.Ok(new { accepted = events.Count });
    }

    /// <summary>
    /// Amplitude's HTTP API v2, so that Amplitude's analytics SDKs can point their server URL here unchanged.
    /// Answers in Amplitude's shape: <c>{"code": 200, "events_ingested": n, ...}</c>.
    /// </summary>
    private static async Task<IResult> TrackAmplitudeEvents(
        EventBatchRequest request, HttpRequest http, ApiKeyStore keys, EventValidator validator, IPublishEndpoint publisher, TimeProvider time,
        CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.ApiKey) && SdkKeyAuthentication.PresentedKey(http) is null)
        {
            return TypedResults.BadRequest(new { code = 400, error = "Request missing required field", missing_field = "api_key" });
        }
        var (projectId, problem) = await keys.AuthenticateAsync(http, request.ApiKey, ct);
        if (problem is not null)
        {
            return TypedResults.BadRequest(new { code = 400, error = "Invalid API key: " + request.ApiKey });
        }
        var (events, errors) = validator.Validate(request.Events);
        if (errors.Count > 0)
        {
            return TypedResults.BadRequest(new { code = 400, error = "Request has invalid events; none of this batch was stored.", errors });
        }

        var now = time.GetUtcNow();
        await publisher.Publish(new EventBatchReceived(Guid.NewGuid(), projectId!, now, events), ct);
        return TypedResults.Ok(new
        {
            code = 200,
            events_ingested = events.Count,
            payload_size_bytes = http.ContentLength ?? 0,
            server_upload_time = now.ToUnixTimeMilliseconds(),
        });
    }
}
