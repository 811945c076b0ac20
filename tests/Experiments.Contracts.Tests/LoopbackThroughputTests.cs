using System.Diagnostics;
using Experiments.Contracts.Tests.Interop;
using Experiments.Contracts.Tests.Support;
using Google.Protobuf;
using Xunit.Abstractions;

namespace Experiments.Contracts.Tests;

/// <summary>
/// Reports calls/s of our client against our server on loopback; prints, asserts nothing about speed.
/// See the numbers with: dotnet test tests/Experiments.Contracts.Tests --filter LoopbackThroughput --logger "console;verbosity=detailed"
/// </summary>
public sealed class LoopbackThroughputTests(EchoServerFixture server, ITestOutputHelper output) : IClassFixture<EchoServerFixture>
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Sequential_and_parallel_unary_calls_per_second_are_reported()
    {
        var client = new Echo.EchoClient(server.Channel);
        var request = new EchoRequest { Payload = ByteString.CopyFrom(new byte[64]) };
        for (var i = 0; i < 200; i++)
        {
            await client.UnaryAsync(request);
        }

        var sequential = await MeasureAsync(1, client, request);
        var parallel = await MeasureAsync(64, client, request);

        output.WriteLine($"loopback unary, 64-byte payload, {Window.TotalSeconds:0} s each, {Environment.ProcessorCount} cores:");
        output.WriteLine($"  sequential (1 in flight):  {sequential,8:0} calls/s");
        output.WriteLine($"  parallel (64 in flight):   {parallel,8:0} calls/s");
        Assert.True(sequential > 0 && parallel > 0);
    }

    private static async Task<double> MeasureAsync(int concurrency, Echo.EchoClient client, EchoRequest request)
    {
        var calls = 0L;
        var stopwatch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (stopwatch.Elapsed < Window)
            {
                await client.UnaryAsync(request);
                Interlocked.Increment(ref calls);
            }
        });
        await Task.WhenAll(workers);
        return calls / stopwatch.Elapsed.TotalSeconds;
    }
}
