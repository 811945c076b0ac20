using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Experiments.Contracts.Grpc;
using Experiments.Contracts.Tests.Interop;
using Experiments.Contracts.Tests.Support;
using Google.Protobuf;
using Grpc.Core;

namespace Experiments.Contracts.Tests;

/// <summary>GrpcHttpCallInvoker against our Kestrel server over real loopback HTTP/2.</summary>
public sealed class OurClientOurServerTests(EchoServerFixture server) : IClassFixture<EchoServerFixture>
{
    private Echo.EchoClient Client => new(server.Channel);

    [Fact]
    public async Task Unary_call_round_trips_the_payload_with_status_ok()
    {
        var payload = ByteString.CopyFrom(Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray());
        using var call = Client.UnaryAsync(new EchoRequest { Payload = payload });

        var reply = await call;

        Assert.Equal(payload, reply.Payload);
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        Assert.Equal(-1, reply.DeadlineRemainingMs);
    }

    [Fact]
    public void Blocking_unary_call_returns_the_reply()
    {
        var reply = Client.Unary(new EchoRequest { Payload = ByteString.CopyFromUtf8("sync") });

        Assert.Equal("sync", reply.Payload.ToStringUtf8());
    }

    [Fact]
    public async Task Error_status_and_unicode_message_round_trip()
    {
        const string message = "Nicht gefunden: ümlaut ✓ 100% 日本 \r\n tab\t end";

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client.UnaryAsync(new EchoRequest { StatusCode = (int)StatusCode.NotFound, StatusMessage = message }).ResponseAsync);

        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Equal(message, ex.Status.Detail);
    }

    [Fact]
    public async Task Deadline_shorter_than_the_handler_fails_with_deadline_exceeded_at_the_deadline()
    {
        var stopwatch = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client.SleepAsync(new SleepRequest { Milliseconds = 10_000 }, deadline: DateTime.UtcNow.AddMilliseconds(200)).ResponseAsync);

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Server_answers_deadline_exceeded_itself_when_the_handler_outlives_grpc_timeout()
    {
        // A raw request whose grpc-timeout is short, while the client itself waits without a deadline.
        using var http = new HttpClient();
        using var request = RawRequest("/interop.v1.Echo/Sleep", new ByteArrayContent(Frame(new SleepRequest { Milliseconds = 10_000 }.ToByteArray())));
        request.Headers.TryAddWithoutValidation("grpc-timeout", "150m");
        var stopwatch = Stopwatch.StartNew();

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("4", GrpcStatusOf(response));
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task Deadline_travels_as_grpc_timeout_and_is_seen_by_the_server()
    {
        var reply = await Client.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddSeconds(10));

        Assert.InRange(reply.DeadlineRemainingMs, 8_000, 10_001);
    }

    [Fact]
    public async Task Metadata_round_trips_as_headers_and_trailers_including_binary_values()
    {
        var binary = new byte[] { 0, 1, 2, 250, 251, 255 };
        var headers = new Metadata
        {
            { "x-echo-text", "hello" },
            { "x-echo-data-bin", binary },
            { "x-trailer-text", "bye" },
            { "x-trailer-data-bin", binary },
            { "authorization", "Bearer abc" },
        };
        using var call = Client.UnaryAsync(new EchoRequest(), headers);

        var reply = await call;
        var responseHeaders = await call.ResponseHeadersAsync;
        var trailers = call.GetTrailers();

        Assert.Equal("hello", responseHeaders.GetValue("x-echo-text"));
        Assert.Equal(binary, responseHeaders.GetValueBytes("x-echo-data-bin"));
        Assert.Equal("bye", trailers.GetValue("x-trailer-text"));
        Assert.Equal(binary, trailers.GetValueBytes("x-trailer-data-bin"));
        Assert.Contains(reply.Metadata, e => e.Key == "authorization" && e.Value == "Bearer abc");
        Assert.Contains(reply.Metadata, e => e.Key == "x-echo-data-bin" && e.BinaryValue.ToByteArray().SequenceEqual(binary));
        Assert.DoesNotContain(reply.Metadata, e => e.Key is "te" or "content-type" or "grpc-timeout");
    }

    [Fact]
    public async Task Trailers_of_a_failed_call_reach_the_client()
    {
        var headers = new Metadata { { "x-trailer-reason", "quota" } };

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client.UnaryAsync(new EchoRequest { StatusCode = (int)StatusCode.ResourceExhausted, StatusMessage = "slow down" }, headers).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Equal("quota", ex.Trailers.GetValue("x-trailer-reason"));
    }

    [Fact]
    public async Task Unknown_method_of_a_mapped_service_is_unimplemented()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => CallUnknown("interop.v1.Echo", "Nope"));

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        Assert.Equal("Method is unimplemented.", ex.Status.Detail);
    }

    [Fact]
    public async Task Unknown_service_is_unimplemented()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => CallUnknown("nowhere.v1.Ghost", "Boo"));

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        Assert.Equal("Service is unimplemented.", ex.Status.Detail);
    }

    [Fact]
    public async Task Streaming_methods_are_unimplemented_on_both_sides()
    {
        var clientSide = Assert.Throws<RpcException>(() => Client.ServerStream(new EchoRequest()));
        var serverSide = await Assert.ThrowsAsync<RpcException>(() => CallUnknown("interop.v1.Echo", "ServerStream"));

        Assert.Equal(StatusCode.Unimplemented, clientSide.StatusCode);
        Assert.Equal(StatusCode.Unimplemented, serverSide.StatusCode);
    }

    [Fact]
    public async Task Request_over_4_MB_is_rejected_by_the_server_with_resource_exhausted()
    {
        var payload = ByteString.CopyFrom(new byte[(4 * 1024 * 1024) + 1]);

        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.UnaryAsync(new EchoRequest { Payload = payload }).ResponseAsync);

        Assert.True(ex.StatusCode == StatusCode.ResourceExhausted, ex.ToString());
    }

    [Fact]
    public async Task Response_over_4_MB_is_rejected_by_the_client_with_resource_exhausted()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client.UnaryAsync(new EchoRequest { ResponseSize = (4 * 1024 * 1024) + 1 }).ResponseAsync);

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
    }

    [Fact]
    public async Task Message_of_almost_4_MB_passes_both_ways()
    {
        var payload = ByteString.CopyFrom(new byte[(4 * 1024 * 1024) - 100]);

        var reply = await Client.UnaryAsync(new EchoRequest { Payload = payload });

        Assert.Equal(payload.Length, reply.Payload.Length);
    }

    [Fact]
    public async Task Two_hundred_parallel_calls_all_succeed()
    {
        var client = Client;
        var calls = Enumerable.Range(0, 200).Select(async i =>
        {
            var reply = await client.UnaryAsync(new EchoRequest { Payload = ByteString.CopyFromUtf8($"call {i}") });
            return reply.Payload.ToStringUtf8() == $"call {i}";
        });

        var results = await Task.WhenAll(calls);

        Assert.All(results, Assert.True);
    }

    [Fact]
    public async Task Handler_exception_is_unknown_without_leaking_its_message()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Client.FailAsync(new EchoRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unknown, ex.StatusCode);
        Assert.DoesNotContain("secret", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_the_call_token_fails_with_cancelled()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(150));

        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            Client.SleepAsync(new SleepRequest { Milliseconds = 10_000 }, cancellationToken: cts.Token).ResponseAsync);

        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
    }

    [Fact]
    public async Task Non_grpc_content_type_is_answered_with_415()
    {
        using var http = new HttpClient();
        using var request = RawRequest("/interop.v1.Echo/Unary", new StringContent("{}"));
        request.Content!.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Non_post_request_is_answered_with_405()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Address, "/interop.v1.Echo/Unary"))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Malformed_frame_is_internal()
    {
        using var http = new HttpClient();
        using var request = RawRequest("/interop.v1.Echo/Unary", new ByteArrayContent([0, 0, 0]));

        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("13", GrpcStatusOf(response));
    }

    [Fact]
    public async Task Compressed_message_with_an_unsupported_encoding_is_unimplemented()
    {
        using var http = new HttpClient();
        var frame = Frame([1, 2, 3]);
        frame[0] = 1;
        using var request = RawRequest("/interop.v1.Echo/Unary", new ByteArrayContent(frame));
        request.Headers.TryAddWithoutValidation("grpc-encoding", "gzip");

        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("12", GrpcStatusOf(response));
        Assert.Equal("identity", response.Headers.GetValues("grpc-accept-encoding").Single());
    }

    [Fact]
    public async Task Compressed_flag_without_grpc_encoding_is_internal()
    {
        using var http = new HttpClient();
        var frame = Frame([1, 2, 3]);
        frame[0] = 1;
        using var request = RawRequest("/interop.v1.Echo/Unary", new ByteArrayContent(frame));

        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("13", GrpcStatusOf(response));
    }

    [Fact]
    public async Task Successful_response_carries_status_in_trailers_after_one_message()
    {
        using var http = new HttpClient();
        using var request = RawRequest("/interop.v1.Echo/Unary", new ByteArrayContent(Frame(new EchoRequest { Payload = ByteString.CopyFromUtf8("x") }.ToByteArray())));

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, body[0]);
        Assert.Equal(body.Length - 5, (body[1] << 24) | (body[2] << 16) | (body[3] << 8) | body[4]);
        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
        Assert.False(response.Headers.Contains("grpc-status"));
    }

    [Fact]
    public async Task Connection_refused_is_unavailable()
    {
        using var channel = GrpcHttpChannel.ForAddress($"http://127.0.0.1:{FreePort()}");

        var ex = await Assert.ThrowsAsync<RpcException>(() => new Echo.EchoClient(channel).UnaryAsync(new EchoRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
    }

    private Task<EchoReply> CallUnknown(string service, string method)
    {
        var unknown = new Method<EchoRequest, EchoReply>(
            MethodType.Unary, service, method,
            Marshallers.Create<EchoRequest>(r => r.ToByteArray(), EchoRequest.Parser.ParseFrom),
            Marshallers.Create<EchoReply>(r => r.ToByteArray(), EchoReply.Parser.ParseFrom));
        return server.Channel.CreateCallInvoker().AsyncUnaryCall(unknown, null, default, new EchoRequest()).ResponseAsync;
    }

    private HttpRequestMessage RawRequest(string path, HttpContent content)
    {
        if (content.Headers.ContentType is null)
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        }

        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Address, path))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = content,
        };
        request.Headers.TryAddWithoutValidation("te", "trailers");
        return request;
    }

    private static byte[] Frame(byte[] payload)
    {
        var frame = new byte[5 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), payload.Length);
        payload.CopyTo(frame, 5);
        return frame;
    }

    private static string? GrpcStatusOf(HttpResponseMessage response) =>
        response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.Single()
        : response.Headers.TryGetValues("grpc-status", out var header) ? header.Single()
        : null;

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
