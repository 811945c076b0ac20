using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Experiments.Ingest.Tests;

/// <summary>The HTTP API's answers and what reaches ClickHouse, over the real servers and the service as a process.</summary>
[Collection(IngestCollection.Name)]
public sealed class EventsApiTests(IngestFixture fixture)
{
    private IngestService Service => fixture.Service;

    [Fact]
    public async Task Accepted_batch_is_stored_exposures_and_events_apart()
    {
        var prefix = IngestFixture.Prefix("ok");
        using var client = Service.Client();
        var response = await Post(client, "/v1/events", LoadDriver.Batch(prefix, 0, 10));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(10, (int)(await response.Content.ReadFromJsonAsync<JsonObject>())!["accepted"]!);

        Assert.Equal(5, await Service.WaitForDistinctAsync("exposures", prefix, 5, TimeSpan.FromSeconds(30)));
        Assert.Equal(5, await Service.WaitForDistinctAsync("events", prefix, 5, TimeSpan.FromSeconds(30)));
        var row = (await Service.ClickHouse.QueryAsync(Experiments.ClickHouse.ClickHouseSql.Format(
            $"SELECT flag_key, variant, user_id, platform FROM exposures WHERE insert_id = {prefix + "-0-0"}"),
            r => (r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3)))).Single();
        Assert.Equal(("fault-flag", "control", "u0", "test"), row);
        var properties = await Service.ClickHouse.QueryScalarAsync<string>(Experiments.ClickHouse.ClickHouseSql.Format(
            $"SELECT event_properties FROM events WHERE insert_id = {prefix + "-0-1"}"));
        Assert.Equal("""{"amount":1}""", properties);
    }

    [Fact]
    public async Task The_same_batch_posted_twice_counts_once()
    {
        var prefix = IngestFixture.Prefix("twice");
        using var client = Service.Client();
        var body = LoadDriver.Batch(prefix, 0, 200);
        Assert.Equal(HttpStatusCode.OK, (await Post(client, "/v1/events", body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Post(client, "/v1/events", body)).StatusCode);

        // Both copies arrive (raw rows), and the documented rule counts each event once.
        await WaitForRawAsync("events", prefix, 200);
        Assert.Equal(100, await Service.DistinctAsync("events", prefix));
        Assert.Equal(100, await Service.FinalRowsAsync("events", prefix));
        await WaitForRawAsync("exposures", prefix, 200);
        Assert.Equal(100, await Service.FinalRowsAsync("exposures", prefix));
        var users = await Service.ClickHouse.QueryScalarAsync<long>(Experiments.ClickHouse.ClickHouseSql.Format(
            $"SELECT uniqExact(user_id) FROM exposures WHERE startsWith(insert_id, {prefix})"));
        Assert.Equal(100, users);
    }

    [Fact]
    public async Task Events_without_insert_id_get_one_from_their_content_so_a_resend_counts_once()
    {
        var user = "noid-" + Guid.NewGuid().ToString("N")[..8];
        var body = Encoding.UTF8.GetBytes($$"""{"events":[{"event_type":"signup","user_id":"{{user}}","time":{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}}},{"event_type":"signup","device_id":"{{user}}-d"}]}""");
        using var client = Service.Client();
        Assert.Equal(HttpStatusCode.OK, (await Post(client, "/v1/events", body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Post(client, "/v1/events", body)).StatusCode);
        var sql = Experiments.ClickHouse.ClickHouseSql.Format(
            $"SELECT count(), uniqExact(insert_id), min(insert_id) FROM events WHERE user_id = {user} OR device_id = {user + "-d"}");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        (long Rows, long Ids, string Id) seen = default;
        while (DateTime.UtcNow < deadline && seen.Rows < 3)
        {
            seen = (await Service.ClickHouse.QueryAsync(sql, r => (r.GetInt64(0), r.GetInt64(1), r.GetString(2)))).Single();
            await Task.Delay(200);
        }
        Assert.True(seen.Rows >= 3, $"rows: {seen.Rows}");
        Assert.Equal(2, seen.Ids); // the same two ids both times (the device-only one has no time: now differs, the id does not)
        Assert.StartsWith("h:", seen.Id);
    }

    [Fact]
    public async Task Invalid_events_are_named_by_index_and_field_and_nothing_of_the_batch_is_stored()
    {
        var prefix = IngestFixture.Prefix("bad");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var body = $$"""
            {"events":[
              {"event_type":"ok","user_id":"a","insert_id":"{{prefix}}-0"},
              {"event_type":"no-user","insert_id":"{{prefix}}-1"},
              {"event_type":"future","user_id":"a","time":{{now + 86_400_000L}},"insert_id":"{{prefix}}-2"},
              {"event_type":"$exposure","user_id":"a","event_properties":{"variant":"x"},"insert_id":"{{prefix}}-3"},
              {"user_id":"a","insert_id":"{{prefix}}-4"},
              {"event_type":"old","user_id":"a","time":{{now - 90L * 86_400_000}},"insert_id":"{{prefix}}-5"},
              {"event_type":"props","user_id":"a","event_properties":[1,2],"insert_id":"{{prefix}}-6"},
              {"event_type":"big","user_id":"a","user_properties":{"x":"{{new string('x', 40_000)}}"},"insert_id":"{{prefix}}-7"},
              {"event_type":"num","user_id":42,"insert_id":"{{prefix}}-8"},
              null
            ]}
            """;
        using var client = Service.Client();
        var response = await Post(client, "/v1/events", Encoding.UTF8.GetBytes(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        var errors = problem["errors"]!.AsObject();
        Assert.Equal(
            ["events[1].user_id", "events[2].time", "events[3].event_properties.flag_key", "events[4].event_type", "events[5].time",
             "events[6].event_properties", "events[7].user_properties", "events[8].user_id", "events[9]"],
            errors.Select(e => e.Key).Order(StringComparer.Ordinal).ToArray());
        Assert.Contains("none of this batch", (string?)problem["title"]);

        var amplitude = await Post(client, "/2/httpapi", Encoding.UTF8.GetBytes(body));
        Assert.Equal(HttpStatusCode.BadRequest, amplitude.StatusCode);
        var answer = (await amplitude.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(400, (int)answer["code"]!);
        Assert.Equal([2, 5], answer["events_with_invalid_fields"]!["time"]!.AsArray().Select(i => (int)i!).ToArray());

        await Task.Delay(1000);
        Assert.Equal(0, await Service.RawRowsAsync("events", prefix));
    }

    [Fact]
    public async Task Malformed_json_and_missing_events_are_400_naming_the_field()
    {
        using var client = Service.Client();
        var malformed = await Post(client, "/v1/events", "{\"events\":[{\"event_type\":"u8.ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.NotNull((await malformed.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["body"]);

        var empty = await Post(client, "/v1/events", "{\"events\":[]}"u8.ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.NotNull((await empty.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["events"]);
    }

    [Fact]
    public async Task Oversized_batches_and_bodies_are_413()
    {
        using var client = Service.Client();
        var tooMany = await Post(client, "/v1/events", LoadDriver.Batch(IngestFixture.Prefix("many"), 0, 2001));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);
        Assert.Contains("2000", (string?)(await tooMany.Content.ReadFromJsonAsync<JsonObject>())!["detail"]);

        var huge = new byte[21 * 1024 * 1024];
        huge.AsSpan().Fill((byte)' ');
        var tooBig = await Post(client, "/v1/events", huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);

        var amplitude = await Post(client, "/2/httpapi", LoadDriver.Batch(IngestFixture.Prefix("many"), 0, 2001));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, amplitude.StatusCode);
        Assert.Equal(413, (int)(await amplitude.Content.ReadFromJsonAsync<JsonObject>())!["code"]!);
    }

    [Fact]
    public async Task Keys_are_checked()
    {
        var body = LoadDriver.Batch(IngestFixture.Prefix("key"), 0, 2);
        using var none = Service.Client(key: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(none, "/v1/events", body)).StatusCode);
        using var wrong = Service.Client("not-a-key");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(wrong, "/v1/events", body)).StatusCode);
        using var admin = Service.Client(IngestService.AdminKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(admin, "/v1/events", body)).StatusCode);

        var missing = await Post(none, "/2/httpapi", body);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("api_key", (string?)(await missing.Content.ReadFromJsonAsync<JsonObject>())!["missing_field"]);

        var inBody = Encoding.UTF8.GetBytes("{\"api_key\":\"" + IngestService.SdkKey + "\"," + Encoding.UTF8.GetString(body)[1..]);
        var accepted = await Post(none, "/2/httpapi", inBody);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        var answer = (await accepted.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(200, (int)answer["code"]!);
        Assert.Equal(2, (int)answer["events_ingested"]!);
    }

    [Fact]
    public async Task A_saturated_pipeline_answers_429_with_retry_after()
    {
        // A second service whose limit of batches waiting for broker confirms is zero: every batch finds it full.
        await using var saturated = await IngestService.StartAsync(fixture.Servers.Connections, new Dictionary<string, string>
        {
            ["Ingest__MaxInFlightBatches"] = "0",
        });
        using var client = saturated.Client();
        var body = LoadDriver.Batch(IngestFixture.Prefix("busy"), 0, 10);
        var response = await Post(client, "/v1/events", body);
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Equal("Too many requests", (string?)(await response.Content.ReadFromJsonAsync<JsonObject>())!["title"]);

        var amplitude = await Post(client, "/2/httpapi", body);
        Assert.Equal(HttpStatusCode.TooManyRequests, amplitude.StatusCode);
        Assert.Equal(429, (int)(await amplitude.Content.ReadFromJsonAsync<JsonObject>())!["code"]!);
        Assert.NotNull(amplitude.Headers.RetryAfter);
    }

    private static async Task<HttpResponseMessage> Post(HttpClient client, string path, byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return await client.PostAsync(path, content);
    }

    private async Task WaitForRawAsync(string table, string prefix, long rows)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && await Service.RawRowsAsync(table, prefix) < rows)
        {
            await Task.Delay(200);
        }
    }
}
