using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Experiments.Notifications.Tests.Support;

/// <summary>A request a receiver got: when, its headers and its raw body.</summary>
public sealed record ReceivedRequest(DateTimeOffset At, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A real HTTP endpoint on Kestrel (a free loopback port) that records every request and answers as
/// <see cref="Respond"/> says, given the 1-based number of the call.
/// </summary>
public sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _calls;

    private Receiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    public Func<int, HttpContext, Task> Respond { get; set; } = (_, context) => { context.Response.StatusCode = 200; return Task.CompletedTask; };

    public string Url { get; private set; } = "";

    public static async Task<Receiver> StartAsync(Func<int, HttpContext, Task>? respond = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.Sources.Clear(); // not the service's appsettings.json (its Kestrel endpoints) from the output folder
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var receiver = new Receiver(builder.Build());
        if (respond is not null)
        {
            receiver.Respond = respond;
        }
        receiver._app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            receiver.Requests.Enqueue(new ReceivedRequest(DateTimeOffset.UtcNow, context.Request.Path,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body.ToArray()));
            await receiver.Respond(Interlocked.Increment(ref receiver._calls), context);
        });
        await receiver._app.StartAsync();
        var address = receiver._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        receiver.Url = $"{address}/hook";
        return receiver;
    }

    /// <summary>Never answers: holds the request until the caller gives up.</summary>
    public static Func<int, HttpContext, Task> Hang => (_, context) => Task.Delay(Timeout.Infinite, context.RequestAborted);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
