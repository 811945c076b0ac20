using System.Diagnostics;
using Experiments.Contracts.Grpc;
using Experiments.Contracts.Tests.Interop;
using Experiments.Contracts.Tests.Support;
using Google.Protobuf;
using Grpc.Core;

namespace Experiments.Contracts.Tests;

/// <summary>The real @grpc/grpc-js server (interop/server.js) on loopback, for our client to call.</summary>
public sealed class GrpcJsServerFixture : IAsyncLifetime
{
    private NodeServer? _server;

    public GrpcHttpChannel Channel { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _server = await NodeInterop.StartServerAsync();
        Channel = GrpcHttpChannel.ForAddress($"http://127.0.0.1:{_server.Port}");
    }

    public async Task DisposeAsync()
    {
        Channel?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

public sealed class GrpcJsServerTests(GrpcJsServerFixture server) : IClassFixture<GrpcJsServerFixture>
{
    private Echo.EchoClient Client => new(server.Channel);

    [Fact]
    public async Task Our_client_gets_the_payload_back_from_grpc_js_with_status_ok()
    {
        using var call = Client.UnaryAsync(new EchoRequest { Payload = ByteString.CopyFromUtf8("hello from C#") });

        var reply = await call;

        Assert.Equal("hello from C#", reply.Payload.ToStringUtf8());
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Contains(reply.Metadata, e => e.Key == "user-agent" && e.Value.StartsWith("grpc-csharp-experiments", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Our_client_gets_grpc_js_error_status_and_unicode_message()
    {
        const string message = "Zugriff verweigert ✗ 50% 日本\n";

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client.UnaryAsync(new EchoRequest { StatusCode = (int)StatusCode.PermissionDenied, StatusMessage = message }).ResponseAsync);

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal(message, ex.Status.Detail);
    }

    [Fact]
    public async Task Our_deadline_ends_a_call_to_grpc_js_with_deadline_exceeded()
    {
        var stopwatch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client.SleepAsync(new SleepRequest { Milliseconds = 5_000 }, deadline: DateTime.UtcNow.AddMilliseconds(200)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(3), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Our_grpc_timeout_is_understood_by_grpc_js()
    {
        var reply = await Client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10));

        Assert.InRange(reply.DeadlineRemainingMs, 8_000, 10_001);
    }

    [Fact]
    public async Task Metadata_round_trips_through_grpc_js_as_headers_and_trailers_including_binary_values()
    {
        var binary = new byte[] { 0, 1, 2, 250, 251, 255 };
        var headers = new Metadata
        {
            { "x-echo-text", "hello" },
            { "x-echo-data-bin", binary },
            { "x-trailer-text", "bye" },
            { "x-trailer-data-bin", binary },
        };
        using var call = Client.UnaryAsync(new EchoRequest(), headers);

        var reply = await call;
        var responseHeaders = await call.ResponseHeadersAsync;
        var trailers = call.GetTrailers();

        Assert.Contains(reply.Metadata, e => e.Key == "x-echo-data-bin" && e.BinaryValue.ToByteArray().SequenceEqual(binary));
        Assert.Equal("hello", responseHeaders.GetValue("x-echo-text"));
        Assert.Equal(binary, responseHeaders.GetValueBytes("x-echo-data-bin"));
        Assert.Equal("bye", trailers.GetValue("x-trailer-text"));
        Assert.Equal(binary, trailers.GetValueBytes("x-trailer-data-bin"));
    }

    [Fact]
    public async Task Trailers_of_a_failed_grpc_js_call_reach_our_client()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client.UnaryAsync(new EchoRequest { StatusCode = (int)StatusCode.Aborted, StatusMessage = "conflict" },
                new Metadata { { "x-trailer-reason", "version" } }).ResponseAsync);

        Assert.Equal(StatusCode.Aborted, ex.StatusCode);
        Assert.Equal("version", ex.Trailers.GetValue("x-trailer-reason"));
    }

    [Fact]
    public async Task Unknown_method_on_grpc_js_is_unimplemented()
    {
        var unknown = new Method<EchoRequest, EchoReply>(
            MethodType.Unary, "interop.v1.Echo", "Nope",
            Marshallers.Create<EchoRequest>(r => r.ToByteArray(), EchoRequest.Parser.ParseFrom),
            Marshallers.Create<EchoReply>(r => r.ToByteArray(), EchoReply.Parser.ParseFrom));

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            server.Channel.CreateCallInvoker().AsyncUnaryCall(unknown, null, default, new EchoRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
    }

    [Fact]
    public async Task Response_over_4_MB_from_grpc_js_is_resource_exhausted()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client.UnaryAsync(new EchoRequest { ResponseSize = (4 * 1024 * 1024) + 1 }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task Fifty_parallel_calls_to_grpc_js_all_succeed()
    {
        var client = Client;
        var replies = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            client.UnaryAsync(new EchoRequest { Payload = ByteString.CopyFromUtf8($"n{i}") }).ResponseAsync));

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"n{i}"), replies.Select(r => r.Payload.ToStringUtf8()));
    }
}
