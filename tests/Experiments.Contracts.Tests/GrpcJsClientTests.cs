using System.Text.Json;
using Experiments.Contracts.Tests.Support;
using Grpc.Core;

namespace Experiments.Contracts.Tests;

/// <summary>Runs the real @grpc/grpc-js client (interop/client.js) once against our Kestrel server.</summary>
public sealed class GrpcJsClientRun : IAsyncLifetime
{
    private readonly EchoServerFixture _server = new();

    public JsonElement Results { get; private set; }

    public async Task InitializeAsync()
    {
        await _server.InitializeAsync();
        Results = await NodeInterop.RunClientAsync(_server.Address.Port);
    }

    public Task DisposeAsync() => _server.DisposeAsync();
}

public sealed class GrpcJsClientTests(GrpcJsClientRun run) : IClassFixture<GrpcJsClientRun>
{
    [Fact]
    public void Grpc_js_client_gets_the_payload_back_with_status_ok()
    {
        var ok = run.Results.GetProperty("ok");

        Assert.Equal(0, ok.GetProperty("code").GetInt32());
        Assert.Equal("hello from grpc-js", ok.GetProperty("response").GetProperty("payload").GetString());
    }

    [Fact]
    public void Grpc_js_client_gets_error_status_and_unicode_message()
    {
        var error = run.Results.GetProperty("error");

        Assert.Equal((int)StatusCode.FailedPrecondition, error.GetProperty("code").GetInt32());
        Assert.Equal("Zustand ungültig ✓ 100% 日本", error.GetProperty("details").GetString());
    }

    [Fact]
    public void Grpc_js_client_deadline_ends_the_call_with_deadline_exceeded()
    {
        var deadline = run.Results.GetProperty("deadline");

        Assert.Equal((int)StatusCode.DeadlineExceeded, deadline.GetProperty("code").GetInt32());
        Assert.InRange(deadline.GetProperty("elapsedMs").GetInt32(), 150, 4000);
    }

    [Fact]
    public void Grpc_js_grpc_timeout_is_parsed_into_the_server_deadline()
    {
        var remaining = run.Results.GetProperty("serverDeadline").GetProperty("response").GetProperty("deadline_remaining_ms").GetInt64();

        Assert.InRange(remaining, 8_000, 10_001);
    }

    [Fact]
    public void Grpc_js_metadata_reaches_our_server_and_comes_back_as_headers_and_trailers()
    {
        var result = run.Results.GetProperty("metadata");
        var seen = result.GetProperty("response").GetProperty("metadata").EnumerateArray()
            .ToDictionary(e => e.GetProperty("key").GetString()!, e => e);

        Assert.Equal("hello", seen["x-echo-text"].GetProperty("value").GetString());
        Assert.Equal(Convert.ToBase64String([0, 1, 2, 250, 251, 255]), seen["x-echo-data-bin"].GetProperty("binary_value").GetString());
        Assert.Equal("hello", First(result.GetProperty("headers"), "x-echo-text"));
        Assert.Equal("base64:AAEC+vv/", First(result.GetProperty("headers"), "x-echo-data-bin"));
        Assert.Equal("bye", First(result.GetProperty("trailers"), "x-trailer-text"));
        Assert.Equal("base64:CQgH", First(result.GetProperty("trailers"), "x-trailer-data-bin"));
    }

    [Fact]
    public void Grpc_js_call_to_an_unknown_method_is_unimplemented()
    {
        Assert.Equal((int)StatusCode.Unimplemented, run.Results.GetProperty("unknownMethod").GetProperty("code").GetInt32());
    }

    [Fact]
    public void Grpc_js_sees_a_handler_exception_as_unknown()
    {
        Assert.Equal((int)StatusCode.Unknown, run.Results.GetProperty("fail").GetProperty("code").GetInt32());
    }

    private static string? First(JsonElement metadata, string key) =>
        metadata.TryGetProperty(key, out var values) ? values[0].GetString() : null;
}
