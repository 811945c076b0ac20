using System.Net;
using System.Net.Http.Headers;
using Experiments.Notifications.Networking;

namespace Experiments.Notifications.Deliveries;

/// <summary>
/// Sends one try of a delivery: Slack Block Kit or a signed webhook, over an HttpClient of its own (no default
/// resilience handler: retries are the outbox's, timeouts are per request), with no redirects or proxies, and
/// connections made only to addresses <see cref="DestinationPolicy"/> allows.
/// </summary>
public sealed class DeliverySender : IDisposable
{
    private readonly HttpClient _http;
    private readonly NotificationContent _content;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    public DeliverySender(DestinationPolicy policy, NotificationContent content, NotificationOptions options, TimeProvider time)
    {
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = policy.ConnectAsync,
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Experiments-Notifications", "1.0"));
        _content = content;
        _timeout = options.RequestTimeout;
        _time = time;
    }

    public async Task<SendOutcome> SendAsync(DeliveryWork work, CancellationToken cancellationToken)
    {
        if (work.Target is not { Active: true } target)
        {
            return new SendOutcome(false, false, null, "The subscription was deleted or disabled.", null);
        }

        Uri uri;
        try
        {
            uri = DestinationPolicy.ParseUrl(target.Url);
        }
        catch (DestinationRefusedException refused)
        {
            return new SendOutcome(false, false, null, refused.Message, null);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, uri);
        var e = work.Event;
        if (target.Kind == SubscriptionTarget.Slack)
        {
            request.Content = Json(_content.SlackBody(e));
        }
        else
        {
            var body = NotificationContent.WebhookBody(e);
            request.Content = Json(body);
            request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(target.Secret ?? "", _time.GetUtcNow().ToUnixTimeSeconds(), body));
            request.Headers.Add("X-Experiments-Event-Id", e.EventId.ToString());
            request.Headers.Add("X-Experiments-Event-Type", e.Type);
            request.Headers.Add("X-Experiments-Delivery-Id", work.Id.ToString());
            request.Headers.Add("X-Experiments-Delivery-Attempt", work.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var code = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return SendOutcome.Success(code);
            }
            var retryable = code is 408 or 425 or 429 || code >= 500;
            return new SendOutcome(false, retryable, code, $"The endpoint answered {code} {response.ReasonPhrase}.", RetryAfter(response));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendOutcome(false, true, null, $"No answer within {_timeout.TotalSeconds:0.###} s.", null);
        }
        catch (HttpRequestException ex) when (ex.InnerException is DestinationRefusedException refused)
        {
            return new SendOutcome(false, false, null, refused.Message, null);
        }
        catch (HttpRequestException ex)
        {
            // The message names the host and port only; it never carries the URL's path (Slack's token) or a secret.
            return new SendOutcome(false, true, null, $"Request failed: {ex.HttpRequestError} ({uri.Host}:{uri.Port}).", null);
        }
    }

    private static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        return content;
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }
        if (retryAfter.Delta is { } delta)
        {
            return delta;
        }
        return retryAfter.Date is { } date ? date - _time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero : null;
    }

    public void Dispose() => _http.Dispose();
}
