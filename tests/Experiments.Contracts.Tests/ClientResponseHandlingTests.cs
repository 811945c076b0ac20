using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Experiments.Contracts.Grpc;
using Experiments.Contracts.Tests.Interop;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Experiments.Contracts.Tests;

/// <summary>How the client reads responses a well-behaved server would not send, through a scripted handler.</summary>
public sealed class ClientResponseHandlingTests
{
    [Theory]
    [InlineData(HttpStatusCode.BadRequest, StatusCode.Internal)]
    [InlineData(HttpStatusCode.Unauthorized, StatusCode.Unauthenticated)]
    [InlineData(HttpStatusCode.Forbidden, StatusCode.PermissionDenied)]
    [InlineData(HttpStatusCode.NotFound, StatusCode.Unimplemented)]
    [InlineData(HttpStatusCode.TooManyRequests, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.BadGateway, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.ServiceUnavailable, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout, StatusCode.Unavailable)]
    [InlineData(HttpStatusCode.InternalServerError, StatusCode.Unknown)]
    public async Task Http_status_without_grpc_status_maps_per_the_spec_table(HttpStatusCode httpStatus, StatusCode expected)
    {
        var ex = await CallAsync(_ => new HttpResponseMessage(httpStatus) { Content = new StringContent("nope") });

        Assert.Equal(expected, ex.StatusCode);
    }

    [Fact]
    public async Task Trailers_only_response_takes_its_status_from_the_headers()
    {
        var ex = await CallAsync(_ =>
        {
            var response = GrpcResponse([]);
            response.Headers.Add("grpc-status", "5");
            response.Headers.Add("grpc-message", "no %E2%9C%93 here");
            response.Headers.Add("x-detail", "d");
            return response;
        });

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal("no ✓ here", ex.Status.Detail);
        Assert.Equal("d", ex.Trailers.GetValue("x-detail"));
    }

    [Fact]
    public async Task Compressed_flag_without_grpc_encoding_is_internal()
    {
        var ex = await CallAsync(_ => GrpcResponse([1, 0, 0, 0, 1, 0], status: "0"));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
    }

    [Fact]
    public async Task Missing_grpc_status_is_internal()
    {
        var ex = await CallAsync(_ => GrpcResponse(Frame(new EchoReply().ToByteArray()), status: null));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
    }

    [Fact]
    public async Task Truncated_message_is_internal()
    {
        var ex = await CallAsync(_ => GrpcResponse([0, 0, 0, 0, 9, 1, 2], status: "0"));

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
    }

    [Fact]
    public async Task Non_grpc_content_type_on_200_is_internal()
    {
        var ex = await CallAsync(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("<html/>") });

        Assert.Equal(StatusCode.Internal, ex.StatusCode);
    }

    [Fact]
    public async Task Request_carries_path_content_type_te_and_framed_message()
    {
        HttpRequestMessage? seen = null;
        byte[]? body = null;
        using var channel = Channel(request =>
        {
            seen = request;
            body = request.Content!.ReadAsByteArrayAsync().GetAwaiter().GetResult();
            return GrpcResponse(Frame(new EchoReply().ToByteArray()), status: "0");
        });

        await new Echo.EchoClient(channel).UnaryAsync(
            new EchoRequest { Payload = ByteString.CopyFromUtf8("abc") },
            new Metadata { { "x-id-bin", new byte[] { 0xff, 0xfe } } },
            deadline: DateTime.UtcNow.AddSeconds(5));

        Assert.NotNull(seen);
        Assert.Equal(HttpMethod.Post, seen.Method);
        Assert.Equal("/interop.v1.Echo/Unary", seen.RequestUri!.AbsolutePath);
        Assert.Equal(HttpVersion.Version20, seen.Version);
        Assert.Equal("application/grpc", seen.Content!.Headers.ContentType!.MediaType);
        Assert.Equal("trailers", seen.Headers.GetValues("te").Single());
        Assert.Matches("^[0-9]{1,8}m$", seen.Headers.GetValues("grpc-timeout").Single());
        Assert.Equal("//4", seen.Headers.GetValues("x-id-bin").Single());
        var payload = new EchoRequest { Payload = ByteString.CopyFromUtf8("abc") }.ToByteArray();
        Assert.Equal(Frame(payload), body);
    }

    [Fact]
    public async Task Deadline_already_passed_fails_without_sending()
    {
        var sent = false;
        using var channel = Channel(_ =>
        {
            sent = true;
            return GrpcResponse([], status: "0");
        });

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            new Echo.EchoClient(channel).UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(-1)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.False(sent);
    }

    [Fact]
    public async Task Client_and_server_calls_are_traced_on_the_experiments_grpc_activity_source()
    {
        var stopped = new List<Activity>();
        ActivityTraceId trace;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == GrpcTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (stopped) { stopped.Add(activity); } },
        };
        ActivitySource.AddActivityListener(listener);
        using var channel = Channel(_ =>
        {
            var response = GrpcResponse([]);
            response.Headers.Add("grpc-status", "7");
            return response;
        });

        // Other tests of this assembly call Echo/Unary at the same time and the listener hears them too: this call
        // runs under a parent of the test's own, and only its trace counts.
        using (var parent = new Activity("trace-test").SetIdFormat(ActivityIdFormat.W3C).Start())
        {
            await Assert.ThrowsAsync<RpcException>(() => new Echo.EchoClient(channel).UnaryAsync(new EchoRequest()).ResponseAsync);
            trace = parent.TraceId;
        }

        Activity client;
        lock (stopped)
        {
            client = Assert.Single(stopped, a => a.TraceId == trace && a.Kind == ActivityKind.Client && a.OperationName == "interop.v1.Echo/Unary");
        }

        Assert.Equal("grpc", client.GetTagItem("rpc.system"));
        Assert.Equal("interop.v1.Echo", client.GetTagItem("rpc.service"));
        Assert.Equal("Unary", client.GetTagItem("rpc.method"));
        Assert.Equal(7, client.GetTagItem("rpc.grpc.status_code"));
        Assert.Equal(ActivityStatusCode.Error, client.Status);
    }

    [Fact]
    public void Add_grpc_client_shares_one_channel_per_address()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["services:echo:grpc:0"] = "http://127.0.0.1:6001" })
            .Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddGrpcClient<Echo.EchoClient>((provider, options) =>
            options.Address = GrpcHttpChannel.ResolveAddress(provider.GetRequiredService<IConfiguration>(), "echo"));
        using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<Echo.EchoClient>();
        var registry = provider.GetRequiredService<GrpcClientServiceCollectionExtensions.GrpcHttpChannelRegistry>();

        Assert.NotSame(client, provider.GetRequiredService<Echo.EchoClient>());
        var channel = registry.Get(new GrpcHttpClientOptions { Address = new Uri("http://127.0.0.1:6001") });
        Assert.Same(channel, registry.Get(new GrpcHttpClientOptions { Address = new Uri("http://127.0.0.1:6001") }));
        Assert.Equal(1, registry.Count);
    }

    [Fact]
    public void Missing_service_address_in_configuration_names_the_variable_to_set()
    {
        var ex = Assert.Throws<InvalidOperationException>(() =>
            GrpcHttpChannel.ResolveAddress(new ConfigurationBuilder().Build(), "assignment"));

        Assert.Contains("services__assignment__grpc__0", ex.Message, StringComparison.Ordinal);
    }

    private static async Task<RpcException> CallAsync(Func<HttpRequestMessage, HttpResponseMessage> respond)
    {
        using var channel = Channel(respond);
        return await Assert.ThrowsAsync<RpcException>(() => new Echo.EchoClient(channel).UnaryAsync(new EchoRequest()).ResponseAsync);
    }

    private static GrpcHttpChannel Channel(Func<HttpRequestMessage, HttpResponseMessage> respond) =>
        GrpcHttpChannel.ForAddress("http://grpc.test", new GrpcHttpChannelOptions { HttpHandler = new ScriptedHandler(respond) });

    private static HttpResponseMessage GrpcResponse(byte[] body, string? status = null)
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK)
        {
            Version = HttpVersion.Version20,
            Content = new ByteArrayContent(body),
        };
        response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        if (status is not null)
        {
            response.TrailingHeaders.Add("grpc-status", status);
        }

        return response;
    }

    private static byte[] Frame(byte[] payload)
    {
        var frame = new byte[5 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    private sealed class ScriptedHandler(Func<HttpRequestMessage, HttpResponseMessage> respond) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(respond(request));
    }
}
