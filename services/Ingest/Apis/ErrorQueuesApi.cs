using Experiments.Ingest.Pipeline;
using Experiments.Postgres.Configuration;

namespace Experiments.Ingest.Apis;

/// <summary>
/// The operator's error-queue routes (<c>Authorization: Bearer &lt;admin key&gt;</c>): parked messages per queue,
/// a peek at them, and a replay that moves them back (docs/ingest.md, "Parked messages").
/// </summary>
public static class ErrorQueuesApi
{
    public static IEndpointRouteBuilder MapErrorQueuesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin/ingest/error-queues").WithTags("Ingest operations")
            .AddEndpointFilter(async (context, next) =>
                await IsAdminAsync(context.HttpContext) ? await next(context)
                    : Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: "An admin key is required: 'Authorization: Bearer <admin key>'."));

        group.MapGet("", async (ErrorQueues errorQueues, IngestQueues queues, CancellationToken ct) =>
        {
            var counts = new List<object>();
            foreach (var queue in queues.All)
            {
                counts.Add(new { queue, error_queue = IngestQueues.ErrorQueue(queue), messages = await errorQueues.CountAsync(queue, ct) });
            }
            return Results.Ok(counts);
        }).WithName("ListErrorQueues");

        group.MapGet("/{queue}/messages", async (string queue, int? limit, ErrorQueues errorQueues, IngestQueues queues, CancellationToken ct) =>
            Known(queues, queue) is { } problem ? problem : Results.Ok(await errorQueues.PeekAsync(queue, Math.Clamp(limit ?? 20, 1, 1000), ct)))
            .WithName("PeekErrorQueue");

        group.MapPost("/{queue}/replay", async (string queue, int? limit, ErrorQueues errorQueues, IngestQueues queues, CancellationToken ct) =>
            Known(queues, queue) is { } problem ? problem : Results.Ok(new { queue, replayed = await errorQueues.ReplayAsync(queue, Math.Clamp(limit ?? 1000, 1, 100_000), ct) }))
            .WithName("ReplayErrorQueue");
        return app;
    }

    private static IResult? Known(IngestQueues queues, string queue) => queues.All.Contains(queue) ? null
        : TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["queue"] = [$"'queue' is one of: {string.Join(", ", queues.All)}."] });

    private static async Task<bool> IsAdminAsync(HttpContext http)
    {
        var presented = SdkKeyAuthentication.PresentedKey(http.Request);
        var owner = await http.RequestServices.GetRequiredService<ApiKeyStore>().FindAsync(presented, http.RequestAborted);
        return owner?.Kind == ApiKeyKinds.Admin;
    }
}
