using System.Buffers;
using Experiments.Contracts.Messages;
using Experiments.Ingest.Model;
using Experiments.Ingest.Pipeline;
using Experiments.Postgres.Configuration;
using Microsoft.AspNetCore.Http.Features;

namespace Experiments.Ingest.Apis;

/// <summary>
/// <c>POST /v1/events</c> (problem details) and <c>POST /2/httpapi</c> (Amplitude's HTTP API v2 answers). Both:
/// 200 only once the broker confirmed the batch; 400 naming each bad event's index and field (nothing of that
/// batch stored); 401 for a missing or wrong SDK key; 413 over <see cref="EventBatchParser.MaxBodyBytes"/> or
/// <see cref="EventBatchParser.MaxEventsPerBatch"/>; 429 with Retry-After when too many batches wait for the broker;
/// 503 with Retry-After when the broker did not confirm. Limits: docs/ingest.md.
/// </summary>
public static class EventsApi
{
    private const int SaturatedRetryAfterSeconds = 1;
    private const int UnavailableRetryAfterSeconds = 5;

    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/events", (HttpContext http, IngestHandler handler) => handler.HandleAsync(http, amplitude: false))
            .WithTags("Events").WithName("TrackEvents")
            .Accepts<object>("application/json")
            .Produces(StatusCodes.Status200OK).ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        app.MapPost("/2/httpapi", (HttpContext http, IngestHandler handler) => handler.HandleAsync(http, amplitude: true))
            .WithTags("Events").WithName("TrackAmplitudeEvents")
            .Accepts<object>("application/json");
        return app;
    }

    /// <summary>One request: read the body (capped), authenticate, parse and check, queue, answer.</summary>
    public sealed class IngestHandler(ApiKeyStore keys, EventBatchParser parser, EventBatchPublisher publisher, TimeProvider time)
    {
        public async Task<IResult> HandleAsync(HttpContext http, bool amplitude)
        {
            var ct = http.RequestAborted;
            var (body, length) = await ReadBodyAsync(http.Request, ct);
            if (body is null)
            {
                return TooLarge(amplitude, $"The body exceeds {EventBatchParser.MaxBodyBytes / (1024 * 1024)} MiB.");
            }
            try
            {
                var json = body.AsMemory(0, length);
                var presented = SdkKeyAuthentication.PresentedKey(http.Request) ?? EventBatchParser.FindApiKey(json.Span);
                if (amplitude && presented is null)
                {
                    return Results.BadRequest(new { code = 400, error = "Request missing required field", missing_field = "api_key" });
                }
                var (projectId, problem) = await keys.AuthenticateAsync(http.Request, presented, ct);
                if (problem is not null)
                {
                    return amplitude ? Results.BadRequest(new { code = 400, error = "Invalid API key: " + presented }) : problem;
                }

                var receivedAt = time.GetUtcNow();
                using var exposures = new RowBuffer(Math.Max(4096, length / 2));
                using var events = new RowBuffer(Math.Max(4096, length));
                var parsed = parser.Parse(json.Span, projectId!, receivedAt, exposures, events);
                switch (parsed.Outcome)
                {
                    case BatchOutcome.TooManyEvents:
                        return TooLarge(amplitude, $"A batch holds at most {EventBatchParser.MaxEventsPerBatch} events.");
                    case BatchOutcome.Invalid:
                        return Invalid(amplitude, parsed);
                }

                var batch = new EventBatchReceived(Guid.NewGuid(), projectId!, receivedAt, parsed.EventCount, EventPayload.Build(exposures, events));
                switch (await publisher.SendAsync(batch, ct))
                {
                    case PublishOutcome.Saturated:
                        return RetryLater(http, amplitude, StatusCodes.Status429TooManyRequests, SaturatedRetryAfterSeconds,
                            "Too many batches are waiting to be queued; retry after the given seconds.");
                    case PublishOutcome.Unavailable:
                        return RetryLater(http, amplitude, StatusCodes.Status503ServiceUnavailable, UnavailableRetryAfterSeconds,
                            "The event queue did not confirm this batch; nothing of it is known to be stored. Retry it unchanged.");
                }

                return amplitude
                    ? Results.Ok(new { code = 200, events_ingested = parsed.EventCount, payload_size_bytes = length, server_upload_time = receivedAt.ToUnixTimeMilliseconds() })
                    : Results.Ok(new { accepted = parsed.EventCount });
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(body);
            }
        }

        private static IResult Invalid(bool amplitude, BatchParseResult parsed)
        {
            var errors = parsed.Errors.GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
            if (parsed.TotalErrors > parsed.Errors.Count)
            {
                errors["errors"] = [$"{parsed.TotalErrors - parsed.Errors.Count} more errors are not listed."];
            }
            const string title = "Some events are invalid; none of this batch was stored.";
            if (!amplitude)
            {
                return TypedResults.ValidationProblem(errors, title: title);
            }
            // Amplitude's shape (field -> indexes of the events), with our per-event messages beside it.
            var invalidFields = parsed.Errors.Where(e => e.Index is not null && e.Field.Length > 0)
                .GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Index!.Value).Distinct().ToArray());
            return Results.BadRequest(new { code = 400, error = title, events_with_invalid_fields = invalidFields, errors });
        }

        private static IResult TooLarge(bool amplitude, string detail) => amplitude
            ? Results.Json(new { code = 413, error = "Payload too large: " + detail }, statusCode: StatusCodes.Status413PayloadTooLarge)
            : Results.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Payload too large", detail: detail);

        private static IResult RetryLater(HttpContext http, bool amplitude, int status, int seconds, string detail)
        {
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return amplitude
                ? Results.Json(new { code = status, error = detail }, statusCode: status)
                : Results.Problem(statusCode: status, title: status == StatusCodes.Status429TooManyRequests ? "Too many requests" : "Service unavailable", detail: detail);
        }

        /// <summary>The whole body in a pooled buffer, or a null buffer when it is larger than the cap.</summary>
        private static async Task<(byte[]? Body, int Length)> ReadBodyAsync(HttpRequest request, CancellationToken ct)
        {
            if (request.ContentLength > EventBatchParser.MaxBodyBytes)
            {
                return (null, 0);
            }
            if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = EventBatchParser.MaxBodyBytes + 1L;
            }
            var buffer = ArrayPool<byte>.Shared.Rent((int)(request.ContentLength ?? 64 * 1024) + 1);
            var length = 0;
            try
            {
                while (true)
                {
                    if (length == buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    var read = await request.Body.ReadAsync(buffer.AsMemory(length), ct);
                    if (read == 0)
                    {
                        return (buffer, length);
                    }
                    length += read;
                    if (length > EventBatchParser.MaxBodyBytes)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return (null, 0);
                    }
                }
            }
            catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return (null, 0);
            }
        }
    }
}
