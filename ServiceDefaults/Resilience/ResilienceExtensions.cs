using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Experiments.ServiceDefaults.Resilience;

/// <summary>
/// Resilience for outgoing HTTP (and gRPC over HTTP/2) calls, built on Polly.Core because
/// Microsoft.Extensions.Http.Resilience does not restore here: a total timeout, retries with
/// exponential backoff and jitter on transient failures, and a per-attempt timeout.
/// Requests that are not idempotent are retried only when they never reached the server.
/// </summary>
public static class ResilienceExtensions
{
    public static IHttpClientBuilder AddDefaultResilience(this IHttpClientBuilder builder)
        => builder.AddHttpMessageHandler(() => new ResilienceHandler(CreateDefaultPipeline()));

    public static ResiliencePipeline<HttpResponseMessage> CreateDefaultPipeline() =>
        new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddTimeout(TimeSpan.FromSeconds(30))
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = 3,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome, args.Context)),
            })
            .AddTimeout(TimeSpan.FromSeconds(10))
            .Build();

    internal static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("http-request");

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        context.Properties.TryGetValue(RequestKey, out var request);
        var idempotent = request is null || request.Method == HttpMethod.Get || request.Method == HttpMethod.Head
            || request.Method == HttpMethod.Put || request.Method == HttpMethod.Delete || request.Method == HttpMethod.Options;

        return outcome switch
        {
            // Connection refused or reset before any response: safe to retry for every method.
            { Exception: HttpRequestException { StatusCode: null } ex } when ex.InnerException is System.Net.Sockets.SocketException => true,
            { Exception: HttpRequestException or TimeoutRejectedException } => idempotent,
            { Result: { } response } => idempotent && (response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
                || (int)response.StatusCode >= 500),
            _ => false,
        };
    }
}
