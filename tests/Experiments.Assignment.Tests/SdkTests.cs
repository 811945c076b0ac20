using Experiments.Assignment.Tests.Support;
using Experiments.Sdk;
using Experiments.TestInfrastructure.Http;

namespace Experiments.Assignment.Tests;

/// <summary>Our .NET SDK against the running assignment service: remote and local evaluation agree with it; exposures once per user, flag and variant.</summary>
public sealed class SdkTests(AssignmentPlatform platform) : IClassFixture<AssignmentPlatform>
{
    [Fact]
    public async Task Remote_and_local_evaluation_agree_and_exposures_are_tracked_once_per_user_flag_and_variant()
    {
        await platform.CreateRunningAsync("sdk-flag", [("control", 1), ("treatment", 1)],
            segments: [new("beta", [new("plan", "is", ["beta"])], Variant: "treatment"), new("rest", [new("plan", "is not", ["beta"])])]);
        var (_, http, _) = await platform.StartAssignmentAsync();
        using var remote = new RemoteEvaluationClient(AssignmentPlatform.SdkKey, new RemoteEvaluationConfig { ServerUrl = http });
        await Eventually.TrueAsync(async () => (await remote.FetchAsync(new ExperimentUser { UserId = "probe" })).ContainsKey("sdk-flag"), "the flag is served");

        var exposures = new ExposureTracker(AssignmentPlatform.SdkKey, new ExposureConfig { IngestUrl = new Uri("http://127.0.0.1:9"), MaxRetries = 0 });
        await using var local = new LocalEvaluationClient(AssignmentPlatform.SdkKey, new LocalEvaluationConfig { ServerUrl = http, Exposures = exposures });
        await local.StartAsync();
        for (var i = 0; i < 60; i++)
        {
            var user = new ExperimentUser { UserId = $"sdk-user-{i}", UserProperties = new Dictionary<string, object?> { ["plan"] = i % 3 == 0 ? "beta" : "free" } };
            var fetched = await remote.FetchAsync(user, ["sdk-flag"]);
            var evaluated = local.Evaluate(user, ["sdk-flag"]);
            Assert.Equal(fetched["sdk-flag"].Key, evaluated["sdk-flag"].Key);
            if (i % 3 == 0)
            {
                Assert.Equal("treatment", evaluated["sdk-flag"].Key);
            }
        }

        var someone = new ExperimentUser { UserId = "sdk-user-1" };
        Assert.False(exposures.Track(someone, "sdk-flag", local.Evaluate(someone)["sdk-flag"].Key!), "evaluation already tracked this exposure");
        Assert.True(exposures.Track(someone, "sdk-flag", "another-variant"));
        Assert.False(exposures.Track(someone, "sdk-flag", "another-variant"));
        await exposures.DisposeAsync();

        using var wrongKey = new RemoteEvaluationClient("not-a-key", new RemoteEvaluationConfig { ServerUrl = http });
        await Assert.ThrowsAsync<ExperimentException>(() => wrongKey.FetchAsync(someone));
    }
}
