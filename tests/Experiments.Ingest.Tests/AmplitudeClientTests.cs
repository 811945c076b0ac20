using System.Text.Json;
using Experiments.ClickHouse;
using Experiments.TestInfrastructure.Processes;

namespace Experiments.Ingest.Tests;

/// <summary>
/// Amplitude's own Node analytics SDK (@amplitude/analytics-node from npm, unchanged) with its server URL set to our
/// <c>/2/httpapi</c>: every event it tracks is stored and counted exactly.
/// </summary>
[Collection(IngestCollection.Name)]
public sealed class AmplitudeClientTests(IngestFixture fixture)
{
    private static readonly NodeScripts Amplitude = new(RepositoryRoot.Combine("tests", "Experiments.Ingest.Tests", "amplitude"), "@amplitude/analytics-node");

    [Fact]
    public async Task Amplitude_node_sdk_events_are_stored_and_counted_exactly()
    {
        const int count = 250;
        var prefix = IngestFixture.Prefix("amp");
        var output = await Amplitude.RunAsync("track.js",
            [$"{fixture.Service.Url}/2/httpapi", IngestService.SdkKey, prefix, count.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            TimeSpan.FromSeconds(90));
        using var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        var codes = result.RootElement.GetProperty("codes").EnumerateArray().Select(c => c.GetInt32()).ToArray();
        Assert.Equal(count, codes.Length);
        Assert.All(codes, code => Assert.Equal(200, code));

        var clickHouse = fixture.Service.ClickHouse;
        async Task<(long Rows, long Ids, long Users)> Counts(string table) => (await clickHouse.QueryAsync(ClickHouseSql.Format(
            $"SELECT count(), uniqExact(insert_id), uniqExact(user_id) FROM {ClickHouseSql.Identifier(table)} FINAL WHERE project_id = {IngestService.ProjectId} AND startsWith(user_id, {prefix})"),
            r => (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2)))).Single();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && ((await Counts("exposures")).Ids < count / 2 || (await Counts("events")).Ids < count / 2))
        {
            await Task.Delay(200);
        }
        Assert.Equal((count / 2L, count / 2L, count / 2L), await Counts("exposures"));
        Assert.Equal((count / 2L, count / 2L, count / 2L), await Counts("events"));
        var variants = await clickHouse.QueryAsync(ClickHouseSql.Format(
            $"SELECT variant, uniqExact(user_id) FROM exposures WHERE flag_key = 'amplitude-flag' AND startsWith(user_id, {prefix}) GROUP BY variant ORDER BY variant"),
            r => (r.GetString(0), r.GetInt64(1)));
        Assert.Equal([("control", 63L), ("treatment", 62L)], variants);
    }
}
