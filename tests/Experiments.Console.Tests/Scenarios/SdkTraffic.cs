using System.Net;
using System.Net.Http.Json;
using Xunit.Abstractions;

namespace Experiments.Console.Tests.Scenarios;

/// <summary>
/// Users through the SDK path: assignment (<c>POST /v1/evaluate</c> with the SDK key), then exposures
/// (<c>$exposure</c> with <c>event_properties.flag_key</c> and <c>variant</c>) and conversions posted to ingest.
/// Returns what each variant should show: distinct exposed users and converted users. User <c>i</c> is
/// <c>user-{i:D5}</c>; <c>userProperties(i)</c>, when given, go on its exposure; <c>sent</c>, when given, gets each user's variant and conversion.
/// </summary>
public static class SdkTraffic
{
    public sealed record Expected(long Exposures, long Conversions)
    {
        public double Rate => (double)Conversions / Exposures;
    }

    public static async Task<IReadOnlyDictionary<string, Expected>> SendAsync(
        LaunchedPlatform platform, string flag, int users, Func<string, int, bool> converts, string conversionEvent,
        Func<int, IReadOnlyDictionary<string, string>>? userProperties = null, List<(string Variant, bool Converted)>? sent = null)
    {
        using var assignment = platform.SdkClient(platform.Assignment);
        using var ingest = platform.SdkClient(platform.Ingest);

        await Eventually.TrueAsync(async () => await VariantOfAsync(assignment, "user-00000", flag) is not null, "assignment serves the launched experiment");
        var ids = Enumerable.Range(0, users).Select(i => $"user-{i:D5}").ToArray();
        var variants = new string[users];
        await Parallel.ForEachAsync(Enumerable.Range(0, users), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            variants[i] = await VariantOfAsync(assignment, ids[i], flag) ?? throw new InvalidOperationException($"{ids[i]} got no variant");
        });

        // After the launch (the analysis counts from the experiment's start), the conversion a moment later.
        var exposedAt = DateTimeOffset.UtcNow.AddSeconds(-2);
        var events = new List<object>();
        var counts = new Dictionary<string, (long Exposures, long Conversions)>();
        for (var i = 0; i < users; i++)
        {
            var variant = variants[i];
            events.Add(new
            {
                event_type = "$exposure", user_id = ids[i], time = exposedAt.ToUnixTimeMilliseconds(), insert_id = $"{ids[i]}-x",
                event_properties = new { flag_key = flag, variant }, user_properties = userProperties?.Invoke(i) ?? new Dictionary<string, string>(),
            });
            var converted = converts(variant, i);
            if (converted)
            {
                events.Add(new { event_type = conversionEvent, user_id = ids[i], time = exposedAt.AddSeconds(1).ToUnixTimeMilliseconds(), insert_id = $"{ids[i]}-c" });
            }
            sent?.Add((variant, converted));
            var (e, c) = counts.GetValueOrDefault(variant);
            counts[variant] = (e + 1, c + (converted ? 1 : 0));
        }
        foreach (var chunk in events.Chunk(500))
        {
            await ingest.PostAsJsonAsync("/v1/events", new { events = chunk }).ExpectAsync(HttpStatusCode.OK);
        }
        return counts.ToDictionary(kv => kv.Key, kv => new Expected(kv.Value.Exposures, kv.Value.Conversions));
    }

    /// <summary>What each variant should show for the users (by index) that <paramref name="include"/> keeps.</summary>
    public static IReadOnlyDictionary<string, Expected> Count(IReadOnlyList<(string Variant, bool Converted)> sent, Func<int, bool> include)
        => sent.Select((u, i) => (u.Variant, u.Converted, Index: i)).Where(u => include(u.Index)).GroupBy(u => u.Variant)
            .ToDictionary(g => g.Key, g => new Expected(g.LongCount(), g.LongCount(u => u.Converted)));

    /// <summary>Waits until the analysis (all exposed users, no filters) shows every exposure and conversion sent.</summary>
    public static async Task WaitForAnalysisAsync(LaunchedPlatform platform, string id, IReadOnlyDictionary<string, Expected> expected, ITestOutputHelper? output = null)
    {
        using var admin = platform.AdminClient();
        var last = "";
        try
        {
            await WaitAsync();
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} Expected {string.Join(", ", expected.Select(e => $"{e.Key}: {e.Value}"))}; the last analysis: {last}", ex);
        }

        Task WaitAsync() => Eventually.TrueAsync(async () =>
        {
            var analysis = await admin.PostAsJsonAsync($"/v1/admin/experiments/{id}/analyze", new { }).ExpectAsync(HttpStatusCode.OK);
            last = analysis["variants"]?.ToJsonString() ?? "";
            var done = analysis["variants"]!.AsArray().All(v => expected.TryGetValue((string)v!["key"]!, out var e)
                && (long)v["exposures"]! == e.Exposures && (long)v["conversions"]! == e.Conversions);
            if (done)
            {
                output?.WriteLine(analysis.ToJsonString());
            }
            return done;
        }, "the analysis shows every event sent", TimeSpan.FromSeconds(90));
    }

    private static async Task<string?> VariantOfAsync(HttpClient assignment, string user, string flag)
    {
        var answer = await assignment.PostAsJsonAsync("/v1/evaluate", new { user_id = user, flag_keys = new[] { flag } }).ExpectAsync(HttpStatusCode.OK);
        return (string?)answer["variants"]?[flag]?["key"];
    }
}
